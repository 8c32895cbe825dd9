// `tally devnet`: a local network to try things on. N regtest nodes run as child processes of
// this one command, each with its own data directory under one folder and ports chosen by the
// system, every node told of the ones started before it; the first has the explorer. The first M
// are miners: the first mines 101 blocks and pays every node's wallet 10 coins, then the miners
// take turns finding a block every --block-interval seconds (regtest's proof of work is trivial,
// so `--mine` would flood). Ctrl-C or SIGTERM stops each child by its PID (SIGTERM, SIGKILL after
// 15 s) and exits once all are gone; if this process is killed outright, each child sees its IPC
// channel close and stops itself. Owns the children and the printed table; fails with one line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { RpcClient } from '../rpc/client.js';
import { CliError } from './errors.js';
import type { CliIO } from './main.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const STARTED = /Tally started .*\bp2p=(\S+) rpcPort=(\d+)(?:.*\bexplorer=(\S+))?/;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** Coins each wallet gets from the first miner. */
const FUNDING = 10;

interface DevNode {
  index: number;
  child: ChildProcess;
  datadir: string;
  p2p: string;
  rpcPort: number;
  explorer?: string;
  rpc: RpcClient;
  address: string;
}

function count(option: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new CliError(`invalid ${option} ${v}: expected an integer ≥ ${min}`);
  return Number(v);
}

/** Starts one node and resolves with its URL and ports from its "Tally started" line. */
function startChild(index: number, datadir: string, args: string[]): Promise<Omit<DevNode, 'address'>> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--network',
      'regtest',
      '--datadir',
      datadir,
      'node',
      '--port',
      '0',
      '--rpcport',
      '0',
      '--threads',
      '1',
      ...args,
    ],
    // The IPC channel is how a child notices this process is gone, even SIGKILLed (which signals
    // no child): `tally node` stops cleanly when its channel closes.
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // Piped above (the 'ipc' entry only hides that from the types).
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  return new Promise((resolveStart, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`did not start in ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new CliError(`node ${index} ${why}: ${out.trim().split('\n').slice(-3).join(' | ')}`));
    };
    child.once('exit', (code) => fail(`exited (status ${code})`));
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = STARTED.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      stdout.off('data', onData);
      stdout.resume();
      stderr.resume();
      const rpcPort = Number(m[2]);
      const cookieFile = join(datadir, 'regtest', '.cookie');
      resolveStart({
        index,
        child,
        datadir,
        p2p: m[1],
        rpcPort,
        explorer: m[3],
        rpc: new RpcClient({ port: rpcPort, cookieFile }),
      });
    };
    stdout.on('data', onData);
    stderr.on('data', (d: Buffer) => (out += d.toString()));
  });
}

/** SIGTERM to every child by PID, SIGKILL to any still up after the timeout; resolves when all are gone. */
async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null || c.signalCode !== null) return done();
          const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
          c.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

export function addDevnetCommand(program: Command, io: CliIO): void {
  const out = (s: string): void => void io.stdout.write(s + '\n');
  program
    .command('devnet')
    .description(
      'run N connected regtest nodes here (wallets funded, the first with the explorer) until Ctrl-C',
    )
    .option('--nodes <n>', 'how many nodes', '3')
    .option('--miners <m>', 'how many of them mine', '1')
    .option('--dir <folder>', 'where their data directories go (default: a new temporary folder)')
    .option('--explorer <port>', "the first node's explorer port (0: any free port)", '0')
    .option('--block-interval <seconds>', 'a block every this many seconds (0: only on request)', '30')
    .action(
      async (o: { nodes: string; miners: string; dir?: string; explorer: string; blockInterval: string }) => {
        const n = count('--nodes', o.nodes, 1);
        const miners = count('--miners', o.miners, 0);
        if (miners > n) throw new CliError(`--miners ${miners} is more than --nodes ${n}`);
        const interval = count('--block-interval', o.blockInterval, 0);
        const explorerPort = count('--explorer', o.explorer, 0);
        const dir = o.dir !== undefined ? resolve(o.dir) : mkdtempSync(join(tmpdir(), 'tally-devnet-'));
        const nodes: DevNode[] = [];
        let stopping: Promise<void> | null = null;
        const stop = () => (stopping ??= stopChildren(nodes.map((d) => d.child)));
        let timer: NodeJS.Timeout | undefined;
        const onSignal = () => {
          clearInterval(timer);
          out('stopping the devnet…');
          void stop().then(() => {
            out('all nodes stopped');
            process.exit(0);
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          for (let i = 0; i < n; i++) {
            const datadir = join(dir, `node${i}`);
            mkdirSync(datadir, { recursive: true, mode: 0o700 }); // owner-only, as `tally node` makes a datadir
            const args = [
              ...nodes.flatMap((p) => ['--addnode', p.p2p]),
              ...(i === 0 ? ['--explorer', String(explorerPort)] : []),
            ];
            const started = await startChild(i, datadir, args);
            await started.rpc.call('createwallet', ['default']);
            nodes.push({ ...started, address: await started.rpc.call<string>('getnewaddress') });
          }
          if (miners > 0) {
            const first = nodes[0];
            await first.rpc.call('generatetoaddress', [101, first.address]);
            for (const d of nodes.slice(1)) await first.rpc.call('sendtoaddress', [d.address, FUNDING]);
            await first.rpc.call('generatetoaddress', [1, first.address]);
          }
        } catch (e) {
          clearInterval(timer);
          await stop();
          throw e;
        }
        out(`devnet of ${n} regtest nodes in ${dir} (${miners} mining):`);
        for (const d of nodes)
          out(
            `  node${d.index}  pid=${d.child.pid} p2p=${d.p2p} rpcPort=${d.rpcPort} address=${d.address}` +
              `${d.index < miners ? ' miner' : ''}${d.explorer ? ` explorer=${d.explorer}` : ''}`,
          );
        out(`  tally --regtest --datadir ${nodes[0].datadir} rpc getpeerinfo   (any node: its --datadir)`);
        out('devnet ready; Ctrl-C stops every node');
        let turn = 0;
        if (miners > 0 && interval > 0)
          timer = setInterval(() => {
            const m = nodes[turn++ % miners];
            m.rpc.call('generatetoaddress', [1, m.address]).catch((e: unknown) => {
              if (!stopping)
                out(`node${m.index} could not mine: ${e instanceof Error ? e.message : String(e)}`);
            });
          }, interval * 1000);
        for (const d of nodes)
          d.child.once('exit', (code, signal) => {
            if (!stopping)
              out(
                `node${d.index} (pid ${d.child.pid}) exited (${signal ?? `status ${code}`}); see ${d.datadir}`,
              );
          });
        // Runs until a signal: the handlers above stop the children and exit.
        await new Promise<never>(() => undefined);
      },
    );
}

// `tally devnet --nodes 3` as a user runs it: the three nodes it prints are connected, funded
// (each non-miner wallet holds the 10 coins the miner sent), a block the miner finds reaches the
// last node, the explorer of the first answers, SIGINT leaves none of the printed PIDs alive, and
// every file and folder under its --dir is owner-only.
// A devnet killed outright (SIGKILL, which signals no child) leaves none either: each node sees its
// IPC channel close and stops cleanly, its data directory reopening at the same height.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient } from '../../src/rpc/client.js';
import { TALLY, openToOthers, waitFor, pidAlive as alive, startNode, stopAll } from './cluster.js';

const root = mkdtempSync(join(tmpdir(), 'tally-devnet-it-'));
const pids: number[] = [];
after(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await stopAll();
  rmSync(root, { recursive: true, force: true });
});

interface Devnet {
  child: ChildProcess;
  dir: string;
  output: () => string;
  /** The printed node rows: index, pid and an RPC client each. */
  nodes: { index: number; pid: number; rpc: RpcClient }[];
}

/** Starts `tally devnet ARGS --dir DIR` and resolves once it printed "devnet ready". */
async function startDevnet(name: string, args: string[]): Promise<Devnet> {
  const dir = join(root, name);
  const child = spawn(process.execPath, [TALLY, 'devnet', ...args, '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pids.push(child.pid!);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(
    () => output.includes('devnet ready'),
    120_000,
    () => `devnet ready (output: ${output})`,
  );
  const rows = [...output.matchAll(/node(\d)\s+pid=(\d+) p2p=\S+ rpcPort=(\d+)/g)];
  const nodes = rows.map((m) => ({
    index: Number(m[1]),
    pid: Number(m[2]),
    rpc: new RpcClient({ port: Number(m[3]), cookieFile: join(dir, `node${m[1]}`, 'regtest', '.cookie') }),
  }));
  pids.push(...nodes.map((n) => n.pid));
  return { child, dir, output: () => output, nodes };
}

test('tally devnet: three connected nodes, a block propagates, SIGINT stops them all', async () => {
  const devnet = await startDevnet('sigint', ['--nodes', '3', '--block-interval', '1']);
  const output = devnet.output;
  assert.equal(devnet.nodes.length, 3, output());
  const rpcs = devnet.nodes.map((n) => n.rpc);
  for (const r of rpcs) assert.ok((await r.call<number>('getconnectioncount')) >= 1);
  await waitFor(async () => (await rpcs[2].call<number>('getbalance')) === 10, 30_000, 'node2 funded');
  const explorer = /explorer=(\S+)/.exec(output())?.[1];
  assert.ok(explorer && (await fetch(explorer)).ok, `explorer of node0 (${explorer})`);
  // The miner finds a block every second: the last node follows.
  const start = await rpcs[2].call<number>('getblockcount');
  await waitFor(
    async () => (await rpcs[2].call<number>('getblockcount')) >= start + 2,
    30_000,
    'blocks at node2',
  );

  devnet.child.kill('SIGINT');
  const code = await new Promise<number | null>((done) => devnet.child.once('exit', (c) => done(c)));
  assert.equal(code, 0, output());
  assert.match(output(), /all nodes stopped/);
  for (const pid of [devnet.child.pid!, ...devnet.nodes.map((n) => n.pid)])
    assert.equal(alive(pid), false, `pid ${pid} still running`);
  // The data directories it made are owner-only, as `tally node` makes one (issue 12).
  assert.deepEqual(openToOthers(devnet.dir), []);
});

test('tally devnet SIGKILLed: every node stops cleanly within seconds, data directories intact', async () => {
  const devnet = await startDevnet('sigkill', ['--nodes', '2', '--block-interval', '0']);
  assert.equal(devnet.nodes.length, 2, devnet.output());
  const heights = await Promise.all(devnet.nodes.map((n) => n.rpc.call<number>('getblockcount')));
  assert.ok(heights[0] >= 102, `funded chain (height ${heights[0]})`);

  devnet.child.kill('SIGKILL');
  await waitFor(
    () => devnet.nodes.every((n) => !alive(n.pid)),
    15_000,
    () =>
      `node pids ${devnet.nodes
        .filter((n) => alive(n.pid))
        .map((n) => n.pid)
        .join(', ')} to exit after the devnet's SIGKILL`,
  );
  for (const n of devnet.nodes) {
    const netDir = join(devnet.dir, `node${n.index}`, 'regtest');
    // A clean stop removes .cookie and .lock and says why it stopped.
    assert.equal(existsSync(join(netDir, '.cookie')), false, `node${n.index} .cookie left behind`);
    assert.equal(existsSync(join(netDir, '.lock')), false, `node${n.index} .lock left behind`);
    assert.match(readFileSync(join(netDir, 'debug.log'), 'utf8'), /parent process gone/);
  }
  // The first node's data reopens where it was, wallet and all.
  const again = await startNode({ datadir: join(devnet.dir, 'node0'), args: ['--connect', '0'] });
  assert.equal(await again.rpc<number>('getblockcount'), heights[0]);
  assert.ok((await again.rpc<number>('getbalance')) > 0);
});

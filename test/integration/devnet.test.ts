// `tally devnet --nodes 3` as a user runs it: the three nodes it prints are connected, funded
// (each non-miner wallet holds the 10 coins the miner sent), a block the miner finds reaches the
// last node, the explorer of the first answers, SIGINT leaves none of the printed PIDs alive, and
// every file and folder under its --dir is owner-only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient } from '../../src/rpc/client.js';
import { TALLY, openToOthers, waitFor, pidAlive as alive } from './cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-devnet-it-'));
const pids: number[] = [];
after(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('tally devnet: three connected nodes, a block propagates, SIGINT stops them all', async () => {
  const devnet = spawn(
    process.execPath,
    [TALLY, 'devnet', '--nodes', '3', '--dir', dir, '--block-interval', '1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  pids.push(devnet.pid!);
  let output = '';
  devnet.stdout.on('data', (d: Buffer) => (output += d.toString()));
  devnet.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(
    () => output.includes('devnet ready'),
    120_000,
    () => `devnet ready (output: ${output})`,
  );
  const rows = [...output.matchAll(/node(\d)\s+pid=(\d+) p2p=\S+ rpcPort=(\d+)/g)];
  assert.equal(rows.length, 3, output);
  pids.push(...rows.map((m) => Number(m[2])));
  const rpcs = rows.map(
    (m) => new RpcClient({ port: Number(m[3]), cookieFile: join(dir, `node${m[1]}`, 'regtest', '.cookie') }),
  );
  for (const r of rpcs) assert.ok((await r.call<number>('getconnectioncount')) >= 1);
  await waitFor(async () => (await rpcs[2].call<number>('getbalance')) === 10, 30_000, 'node2 funded');
  const explorer = /explorer=(\S+)/.exec(output)?.[1];
  assert.ok(explorer && (await fetch(explorer)).ok, `explorer of node0 (${explorer})`);
  // The miner finds a block every second: the last node follows.
  const start = await rpcs[2].call<number>('getblockcount');
  await waitFor(
    async () => (await rpcs[2].call<number>('getblockcount')) >= start + 2,
    30_000,
    'blocks at node2',
  );

  devnet.kill('SIGINT');
  const code = await new Promise<number | null>((done) => devnet.once('exit', (c) => done(c)));
  assert.equal(code, 0, output);
  assert.match(output, /all nodes stopped/);
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
  // The data directories it made are owner-only, as `tally node` makes one (issue 12).
  assert.deepEqual(openToOthers(dir), []);
});

// How `tally node` ends: SIGINT and SIGTERM stop it cleanly (exit 0, .cookie and .lock removed,
// the pool saved), and --daemon detaches a node that `tally rpc stop` ends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TALLY, runTally, waitFor, pidAlive as alive } from './cluster.js';

const dirs: string[] = [];
const pids: number[] = [];
after(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tally-sig-'));
  dirs.push(d);
  return d;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} stops a node cleanly: exit 0, cookie and lock removed, mempool saved`, async () => {
    const dir = tempDir();
    const net = join(dir, 'regtest');
    const child = spawn(
      process.execPath,
      [TALLY, 'node', '--network', 'regtest', '--datadir', dir, '--port', '0', '--rpcport', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    pids.push(child.pid!);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(async () => /Tally started/.test(out), 20_000, 'the node to start');
    assert.ok(existsSync(join(net, '.cookie')) && existsSync(join(net, '.lock')));
    child.kill(signal);
    assert.equal(await exited, 0, out);
    assert.match(out, /Tally stopped/);
    assert.ok(!existsSync(join(net, '.cookie')), '.cookie removed');
    assert.ok(!existsSync(join(net, '.lock')), '.lock removed');
    assert.ok(existsSync(join(net, 'mempool.dat')), 'mempool saved');
  });
}

test('--daemon runs the node in the background; `tally rpc stop` ends it', async () => {
  const dir = tempDir();
  const net = join(dir, 'regtest');
  const common = ['--network', 'regtest', '--datadir', dir];
  const started = await runTally([...common, 'node', '--port', '0', '--rpcport', '0', '--daemon']);
  assert.equal(started.code, 0, started.stderr);
  const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1]);
  assert.ok(pid > 0, started.stdout);
  pids.push(pid);
  await waitFor(async () => /Tally started/.test(readLog(net)), 20_000, 'the daemon to start');
  const rpcPort = /"rpcPort":(\d+)/.exec(readLog(net))?.[1];
  assert.ok(rpcPort, 'the log names the RPC port');
  const count = await runTally([...common, '--rpcport', rpcPort, 'rpc', 'getblockcount']);
  assert.equal(count.stdout.trim(), '0', count.stderr);
  const stop = await runTally([...common, '--rpcport', rpcPort, 'rpc', 'stop']);
  assert.equal(stop.code, 0, stop.stderr);
  await waitFor(async () => !alive(pid), 20_000, 'the daemon to exit');
  assert.ok(!existsSync(join(net, '.lock')));
});

function readLog(net: string): string {
  try {
    return readFileSync(join(net, 'debug.log'), 'utf8');
  } catch {
    return '';
  }
}

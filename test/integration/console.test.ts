// The console of real `tally` processes: a node whose stdout reader goes away (`tally node | head`)
// logs on to debug.log without spinning and still stops cleanly on SIGTERM; SIGHUP reopens
// debug.log (log rotation, as Core); a signal during start-up stops the node cleanly; a command
// whose output pipe is closed exits quietly; files are created owner-only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TALLY, waitFor } from './cluster.js';

const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  net: string;
  out: () => string;
  exited: Promise<number | null>;
}

function spawnNode(): Running {
  const dir = mkdtempSync(join(tmpdir(), 'tally-console-'));
  dirs.push(dir);
  const child = spawn(
    process.execPath,
    [TALLY, 'node', '--network', 'regtest', '--datadir', dir, '--port', '0', '--rpcport', '0'],
    { stdio: 'pipe' },
  );
  children.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  // The test closes stdout on purpose; its own end of the pipe must not throw either.
  child.stdout.on('error', () => undefined);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, net: join(dir, 'regtest'), out: () => out, exited };
}

const log = (net: string) =>
  existsSync(join(net, 'debug.log')) ? readFileSync(join(net, 'debug.log'), 'utf8') : '';

function cpuSeconds(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat; 100 ticks a second on Linux).
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

test('a closed console (tally node | head): the node logs on to debug.log, does not spin, SIGTERM stops it cleanly', async () => {
  const n = spawnNode();
  await waitFor(async () => /Tally started/.test(n.out()), 20_000, 'the node to start');
  const port = Number(/rpcPort=(\d+)/.exec(n.out())?.[1]);
  assert.ok(port > 0, n.out());
  // The reader leaves, as `head -3` does; the next console line (SIGHUP's) meets EPIPE.
  n.child.stdout.destroy();
  n.child.kill('SIGHUP');
  await waitFor(
    async () => /console closed/.test(log(n.net)),
    10_000,
    'the node to notice the closed console',
  );
  const before = cpuSeconds(n.child.pid!);
  const size = log(n.net).length;
  await new Promise((r) => setTimeout(r, 1_000));
  // A spinning node burns a whole core (1 s a second) and writes megabytes; an idle one neither.
  assert.ok(cpuSeconds(n.child.pid!) - before < 0.5, 'the node is idle');
  assert.ok(log(n.net).length - size < 10_000, 'debug.log does not grow');
  // Still serving: a wallet command through the CLI whose own stdout reader is gone exits quietly.
  const cli = spawn(
    process.execPath,
    [TALLY, '--network', 'regtest', '--datadir', join(n.net, '..'), '--rpcport', String(port), 'rpc', 'help'],
    { stdio: 'pipe' },
  );
  cli.stdout.destroy();
  let cliErr = '';
  cli.stderr.on('data', (c: Buffer) => (cliErr += c.toString()));
  const cliCode = await new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
  assert.equal(cliErr, '', 'no stack trace');
  assert.equal(cliCode, 0);
  n.child.kill('SIGTERM');
  assert.equal(await n.exited, 0, n.out());
  assert.match(log(n.net), /Tally stopped/);
  assert.ok(!existsSync(join(n.net, '.cookie')) && !existsSync(join(n.net, '.lock')));
  assert.ok(existsSync(join(n.net, 'mempool.dat')), 'mempool saved');
});

test('SIGHUP reopens debug.log (log rotation) and the node goes on; files are owner-only', async () => {
  const n = spawnNode();
  await waitFor(async () => /Tally started/.test(n.out()), 20_000, 'the node to start');
  for (const [name, mode] of [
    ['.', 0o700],
    ['chainstate', 0o700],
    ['debug.log', 0o600],
    ['.cookie', 0o600],
    ['.lock', 0o600],
    ['chainstate/CURRENT', 0o600],
  ] as const)
    assert.equal(statSync(join(n.net, name)).mode & 0o777, mode, name);
  renameSync(join(n.net, 'debug.log'), join(n.net, 'debug.log.1'));
  n.child.kill('SIGHUP');
  await waitFor(async () => /debug.log reopened/.test(log(n.net)), 10_000, 'a new debug.log');
  assert.equal(statSync(join(n.net, 'debug.log')).mode & 0o777, 0o600);
  assert.equal(n.child.exitCode, null, 'still running');
  n.child.kill('SIGTERM');
  assert.equal(await n.exited, 0, n.out());
  assert.match(log(n.net), /Tally stopped/);
  assert.doesNotMatch(readFileSync(join(n.net, 'debug.log.1'), 'utf8'), /Tally stopped/);
});

test('a signal during start-up stops the node cleanly: exit 0, no .cookie or .lock left', async () => {
  const n = spawnNode();
  await waitFor(async () => /Tally starting/.test(n.out()), 20_000, 'start-up to begin');
  n.child.kill('SIGINT');
  assert.equal(await n.exited, 0, n.out());
  assert.match(n.out(), /Tally (stopped during start-up|stopped)/);
  assert.ok(!existsSync(join(n.net, '.cookie')), '.cookie removed');
  assert.ok(!existsSync(join(n.net, '.lock')), '.lock removed');
});

// A harness for integration tests that run real `tally` processes (dist/src/cli/main.js) on
// 127.0.0.1: each node gets a temp data directory and ephemeral ports (--port 0 --rpcport 0), and
// the harness learns its P2P URL and RPC port from the "Tally started" console line. Every process
// it starts is tracked: stopAll() (call it in `after`) stops each by pid (SIGTERM, then SIGKILL
// after a timeout) and removes the temp directories it made; a process still alive when the test
// process exits is SIGKILLed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../src/rpc/client.js';

/** The compiled `tally` entry point (this file runs from dist/test/integration). */
export const TALLY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const STARTED = /Tally started .*\bp2p=(\S+) rpcPort=(\d+)/;

export interface StartOptions {
  network?: 'main' | 'test' | 'regtest';
  /** A network file (`tally network create`): the node runs with --chain FILE instead. */
  chain?: { file: string; name: string };
  /** Extra `tally node` flags (--connect URL, --threads N ...). */
  args?: string[];
  /** Reuse this data directory (default: a new temp directory, removed by stopAll). */
  datadir?: string;
  /** Run the node inside another mount namespace (see tmpfs.ts). */
  wrap?: Wrap;
}

/** How to start a node elsewhere: `prefix` runs before `node` (nsenter …), and the test reaches
 * the node's files under `root` (/proc/PID/root of a process in that namespace). */
export interface Wrap {
  prefix: string[];
  root: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const live = new Set<TallyProcess>();
const tempDirs = new Set<string>();

/** Every still-running node, SIGKILLed when the test process exits (a test that threw early). */
process.on('exit', () => {
  for (const n of live) n.child?.kill('SIGKILL');
});

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export class TallyProcess {
  child: ChildProcess | null = null;
  pid = 0;
  rpcPort = 0;
  p2pUrl = '';
  /** Everything the node printed on stdout and stderr (for failure messages). */
  output = '';
  private client: RpcClient | null = null;

  constructor(
    /** main, test, regtest, or the name of the network in chainFile. */
    readonly network: string,
    readonly datadir: string,
    public args: string[],
    readonly wrap: Wrap | null = null,
    readonly chainFile?: string,
  ) {}

  /** Where this test process sees a path of the node's (the same path unless wrapped). */
  view(path: string): string {
    return this.wrap ? join(this.wrap.root, path) : path;
  }

  /** The options that choose this node's network. */
  private get networkArgs(): string[] {
    return this.chainFile === undefined ? ['--network', this.network] : ['--chain', this.chainFile];
  }

  /** The network's own folder (DATADIR/<network>, DATADIR itself for main). */
  get networkDir(): string {
    return this.network === 'main' ? this.datadir : join(this.datadir, this.network);
  }

  /** Spawns `tally node` and resolves once it printed "Tally started". */
  async start(): Promise<this> {
    if (this.child) throw new Error('node already running');
    const [cmd, ...pre] = this.wrap ? [...this.wrap.prefix, process.execPath] : [process.execPath];
    const child = spawn(
      cmd,
      [
        ...pre,
        TALLY,
        ...this.networkArgs,
        '--datadir',
        this.datadir,
        'node',
        '--port',
        '0',
        '--rpcport',
        '0',
        // One hash thread unless asked: several nodes share a small machine.
        ...(this.args.includes('--threads') ? [] : ['--threads', '1']),
        ...this.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.pid = child.pid ?? 0;
    live.add(this);
    child.once('exit', () => live.delete(this));
    child.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => fail(new Error(`node did not start in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const fail = (e: Error) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        reject(new Error(`${e.message}\n--- node output ---\n${this.output}`));
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`node exited before it started (code ${code}, signal ${signal})`));
      child.once('exit', onExit);
      child.stdout.on('data', (d: Buffer) => {
        const s = d.toString();
        this.output += s;
        if (this.rpcPort) return;
        buf += s;
        const m = STARTED.exec(buf);
        if (!m) return;
        this.p2pUrl = m[1];
        this.rpcPort = Number(m[2]);
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      });
    }).catch(async (e: unknown) => {
      await this.kill('SIGKILL');
      throw e;
    });
    this.client = new RpcClient({
      port: this.rpcPort,
      cookieFile: this.view(join(this.networkDir, '.cookie')),
      timeoutMs: 120_000,
    });
    return this;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** A JSON-RPC call over HTTP with the node's .cookie. */
  rpc<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    if (!this.client) throw new Error('node not running');
    return this.client.call<T>(method, params);
  }

  /** Runs `tally --network N --datadir D --rpcport P ARGS...` as a user would. */
  cli(...args: string[]): Promise<CliResult> {
    return runTally([
      ...this.networkArgs,
      '--datadir',
      this.datadir,
      '--rpcport',
      String(this.rpcPort),
      ...args,
    ]);
  }

  /** SIGTERM (a clean stop), then SIGKILL if it is still up after the timeout. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    if (!(await waitExit(child, timeoutMs))) {
      child.kill('SIGKILL');
      await waitExit(child, timeoutMs);
    }
    this.detach();
  }

  /** Sends a signal (SIGKILL: a crash) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    if (!(await waitExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitExit(child, STOP_TIMEOUT_MS);
    }
    this.detach();
  }

  /** Stops (if running) and starts again on the same data directory; ports change unless args pin them. */
  async restart(args: string[] = this.args): Promise<this> {
    await this.stop();
    this.args = args;
    return this.start();
  }

  private detach(): void {
    live.delete(this);
    this.child = null;
    this.client = null;
    this.rpcPort = 0;
  }
}

/** Starts a node; its temp data directory (when none is given) is removed by stopAll(). */
export async function startNode(opts: StartOptions = {}): Promise<TallyProcess> {
  let datadir = opts.datadir;
  if (datadir === undefined) {
    datadir = mkdtempSync(join(tmpdir(), 'tally-it-'));
    tempDirs.add(datadir);
  }
  const node = opts.chain
    ? new TallyProcess(opts.chain.name, datadir, opts.args ?? [], opts.wrap, opts.chain.file)
    : new TallyProcess(opts.network ?? 'regtest', datadir, opts.args ?? [], opts.wrap);
  return node.start();
}

/** A regtest node that dials nobody, with wallet `w` and `blocks` mined to its first address. */
export async function startWalletNode(blocks = 101): Promise<{ node: TallyProcess; address: string }> {
  const node = await startNode({ args: ['--connect', '0'] });
  await node.rpc('createwallet', ['w']);
  const address = await node.rpc<string>('getnewaddress');
  await node.rpc('generatetoaddress', [blocks, address]);
  return { node, address };
}

/** Stops every node this process started (in parallel) and removes the temp data directories. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((n) => n.stop()));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Runs the tally binary with these arguments and collects its output. */
export function runTally(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TALLY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Polls predicate every intervalMs until it returns true (errors count as false) or time runs out. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string) = 'condition',
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}` +
          (last instanceof Error ? ` (last error: ${last.message})` : ''),
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Mines n blocks on a node with generatetoaddress in batches (one RPC per batch). */
export async function mine(node: TallyProcess, n: number, address: string, batch = 500): Promise<string[]> {
  const hashes: string[] = [];
  while (hashes.length < n) {
    const got = await node.rpc<string[]>('generatetoaddress', [Math.min(batch, n - hashes.length), address]);
    if (got.length === 0) throw new Error('generatetoaddress mined nothing');
    hashes.push(...got);
  }
  return hashes;
}

/**
 * Waits for a count that grows towards `target` (blocks caught up, say) and fails only when it has
 * not grown for `stallMs`: a wait on progress, not a fixed budget, so a slow but moving catch-up
 * on a loaded machine passes and a stuck one still fails.
 */
export async function waitProgress(
  read: () => Promise<number>,
  target: number,
  stallMs: number,
  what: string,
): Promise<void> {
  let best = -1;
  let movedAt = Date.now();
  for (;;) {
    const now = await read().catch(() => best);
    if (now >= target) return;
    if (now > best) {
      best = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs)
      throw new Error(`no progress for ${stallMs} ms waiting for ${what}: stuck at ${best} of ${target}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resolves once every node reports the same best block hash; returns it. */
export async function waitSameTip(nodes: TallyProcess[], timeoutMs: number): Promise<string> {
  let tips: string[] = [];
  try {
    await waitFor(
      async () => {
        tips = await Promise.all(nodes.map((n) => n.rpc<string>('getbestblockhash')));
        return tips.every((t) => t === tips[0]);
      },
      timeoutMs,
      () => `the same tip on ${nodes.length} nodes (have ${tips.join(', ')})`,
    );
  } catch (e) {
    // A stall seen once in a fresh-clone run could not be reproduced: say what each node saw.
    const said = await Promise.all(nodes.map((n, i) => nodeState(n, i)));
    throw new Error(`${(e as Error).message}\n${said.join('\n')}`);
  }
  return tips[0];
}

/** A node's peers, headers and last debug.log lines, for a wait's failure message. */
async function nodeState(n: TallyProcess, i: number): Promise<string> {
  const peers = await n
    .rpc<{ id: number; inbound: boolean; synced_headers: number }[]>('getpeerinfo')
    .then((p) => JSON.stringify(p.map((x) => [x.id, x.inbound, x.synced_headers])))
    .catch((err: unknown) => String(err));
  const chain = await n
    .rpc<{ blocks: number; headers: number; initialblockdownload: boolean }>('getblockchaininfo')
    .then((c) => `blocks ${c.blocks} headers ${c.headers} ibd ${c.initialblockdownload}`)
    .catch((err: unknown) => String(err));
  let log = '';
  try {
    log = readFileSync(join(n.networkDir, 'debug.log'), 'utf8').split('\n').slice(-15).join('\n  ');
  } catch {
    log = '(no debug.log)';
  }
  return `node ${i}: ${chain}; peers [id, inbound, synced_headers] ${peers}\n  ${log}`;
}

/** A TCP port free on 127.0.0.1 right now (for listeners that cannot take port 0, such as ZMQ's). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Calls to one wallet of the node (/wallet/<name>). */
export function walletRpc(n: TallyProcess, name: string) {
  const client = new RpcClient({
    port: n.rpcPort,
    cookieFile: n.view(join(n.networkDir, '.cookie')),
    wallet: name,
    timeoutMs: 120_000,
  });
  return <T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []) =>
    client.call<T>(method, params);
}

/** For assert.rejects: an RPC error with this code (and message, when given). */
export const rpcFails =
  (code: number, message?: RegExp) =>
  (e: Error & { code?: number }): boolean => {
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };

/** Whether a process of this id exists (signal 0) and is not a zombie (exited, not yet reaped:
 * an orphan whose new parent is slow to reap it still answers signal 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
}

/** Every file and folder under `dir` (and `dir` itself) whose mode lets anyone but the owner in,
 * as "PATH MODE"; a data directory must have none (Core's umask 077: folders 0700, files 0600). */
export function openToOthers(dir: string): string[] {
  const bad: string[] = [];
  const check = (p: string) => {
    const mode = statSync(p, { throwIfNoEntry: false })?.mode; // a running node's temp file may go
    if (mode !== undefined && (mode & 0o077) !== 0) bad.push(`${p} ${(mode & 0o777).toString(8)}`);
  };
  check(dir);
  for (const name of readdirSync(dir, { recursive: true })) check(join(dir, String(name)));
  return bad;
}

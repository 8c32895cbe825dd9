// Logging: pino JSON lines to DATADIR/debug.log and, optionally, a short readable line per entry
// on the console. Owns: levels, per-subsystem child loggers ({ sub: 'chain' }) and the debug list
// that lowers one subsystem to debug. A readable console formatter is written here rather than
// adding pino-pretty: one line per entry is all the console needs. Fails only if debug.log cannot
// be opened (the error names the path).
import { pino, type Logger, type Level, type StreamEntry, type DestinationStream } from 'pino';
import { join } from 'node:path';
import type { LogLevel } from './config.js';

export interface LoggingOptions {
  /** Directory of debug.log; omit for no log file. */
  dir?: string;
  level: LogLevel;
  /** Subsystems logged at debug level; 'all' for every one. */
  debug?: string[];
  printToConsole: boolean;
  /** Where console lines go (default process.stdout). */
  console?: { write(line: string): unknown; isTTY?: boolean };
}

/**
 * The subsystems Tally logs under ({ sub }): what -debug=, debug= and the logging RPC name. Each
 * logs something at debug level in ordinary running (a test starts a node with every one on).
 */
export const LOG_CATEGORIES = [
  'chain',
  'index',
  'mempool',
  'mining',
  'net',
  'node',
  'notify',
  'rpc',
  'stratum',
  'wallet',
] as const;
export type LogCategory = (typeof LOG_CATEGORIES)[number];

/**
 * Core's -debug categories whose work Tally does, each the name of the subsystem that does it:
 * `--debug validation` is `--debug chain`. Core's others (tor, i2p, proxy, leveldb, libevent, qt,
 * rand, lock, ipc, cmpctblock, txreconciliation, scan, txpackages) have no counterpart here.
 */
export const CORE_CATEGORY_ALIASES: Readonly<Record<string, LogCategory>> = {
  validation: 'chain',
  bench: 'chain',
  blockstorage: 'chain',
  coindb: 'chain',
  prune: 'chain',
  reindex: 'chain',
  addrman: 'net',
  mempoolrej: 'mempool',
  estimatefee: 'mempool',
  http: 'rpc',
  zmq: 'notify',
  selectcoins: 'wallet',
  walletdb: 'wallet',
};

/** The subsystem a -debug name turns on (Tally's own name or Core's), or undefined. */
export function categoryOf(name: string): LogCategory | undefined {
  if ((LOG_CATEGORIES as readonly string[]).includes(name)) return name as LogCategory;
  return Object.hasOwn(CORE_CATEGORY_ALIASES, name) ? CORE_CATEGORY_ALIASES[name] : undefined;
}

export interface Logging {
  readonly root: Logger;
  /** A child logger tagged { sub }, at debug level when the subsystem is in the debug list. */
  child(sub: string): Logger;
  /** Each category of LOG_CATEGORIES and whether it logs at debug level now (Core's logging RPC). */
  categories(): Record<string, boolean>;
  /**
   * Core's logging RPC: turns debug level on for `include` and then off for `exclude` ('all' or
   * '1' names every category); the names must be checked against LOG_CATEGORIES first.
   */
  setDebug(include: readonly string[], exclude: readonly string[]): void;
  /** Reopens debug.log by name (after log rotation moved it away); the console is unaffected. */
  reopen(): void;
  /** Flushes and closes debug.log. */
  close(): Promise<void>;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'sub', 'msg']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object' && 'message' in v && 'type' in v)
    return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** One readable line from one pino JSON line: "12:00:01.123 INFO  [chain] message key=value". */
export function formatConsoleLine(json: string, color: boolean): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return json;
  }
  // Only a JSON object is a log record; anything else ("null", "5") passes through as text.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return json;
  const e = parsed as Record<string, unknown>;
  const lvl = typeof e.level === 'number' ? e.level : 30;
  const time = typeof e.time === 'string' ? e.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  let name = (LEVEL_NAMES[lvl] ?? String(lvl)).padEnd(5);
  if (color) name = `\x1b[${LEVEL_COLORS[lvl] ?? '0'}m${name}\x1b[0m`;
  const sub = typeof e.sub === 'string' ? ` [${e.sub}]` : '';
  const extra = Object.entries(e)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${time} ${name}${sub} ${typeof e.msg === 'string' ? e.msg : e.msg === undefined ? '' : JSON.stringify(e.msg)}${extra ? ' ' + extra : ''}\n`;
}

export function createLogging(opts: LoggingOptions): Logging {
  const everything = (names: readonly string[]) => names.includes('all') || names.includes('1');
  const subsOf = (names: readonly string[]): readonly string[] =>
    everything(names) ? LOG_CATEGORIES : names.map((n) => categoryOf(n) ?? n);
  const debugSubs = new Set<string>(subsOf(opts.debug ?? []));
  const levelValue = pino.levels.values[opts.level];
  // The root must let through the lowest level any child may use (the logging RPC can lower one at
  // any time); children filter for themselves.
  const rootLevel: Level = levelValue > pino.levels.values.debug ? 'debug' : opts.level;
  const streams: StreamEntry[] = [];
  let file:
    | (DestinationStream & {
        end(): void;
        reopen(): void;
        once(ev: string, cb: () => void): void;
        on(ev: 'error', cb: (err: NodeJS.ErrnoException) => void): void;
      })
    | null = null;
  let fileFailed = false;
  if (opts.dir !== undefined) {
    file = pino.destination({
      dest: join(opts.dir, 'debug.log'),
      sync: false,
      mkdir: true,
      // Owner-only, as the data directory (the log names addresses, peers and wallets).
      mode: 0o600,
    });
    // A write that fails (disk full, a file that went away) must neither crash the node (an
    // 'error' without a listener throws) nor pile lines up in memory: debug.log is left alone,
    // said once on stderr, until SIGHUP reopens it (reopen() below).
    file.on('error', (err: NodeJS.ErrnoException) => {
      if (fileFailed) return;
      fileFailed = true;
      process.stderr.write(
        `debug.log: cannot write (${err.code ?? err.message}); not logging to it until it is reopened (SIGHUP)\n`,
      );
    });
    const f = file;
    streams.push({
      level: rootLevel,
      stream: { write: (line: string) => void (fileFailed || f.write(line)) },
    });
  }
  if (opts.printToConsole) {
    const out = opts.console ?? process.stdout;
    const color = out.isTTY === true;
    streams.push({
      level: rootLevel,
      stream: { write: (line: string) => void out.write(formatConsoleLine(line, color)) },
    });
  }
  const root =
    streams.length === 0
      ? pino({ level: 'silent' })
      : pino(
          { level: rootLevel, timestamp: pino.stdTimeFunctions.isoTime, base: undefined },
          pino.multistream(streams),
        );
  const levelOf = (sub: string): Level => (debugSubs.has(sub) ? 'debug' : opts.level);
  const children = new Map<string, Logger>();
  return {
    root: root.child({}, { level: opts.level }),
    child(sub: string): Logger {
      let c = children.get(sub);
      if (c === undefined) {
        c = root.child({ sub }, { level: levelOf(sub) });
        children.set(sub, c);
      }
      return c;
    },
    categories(): Record<string, boolean> {
      return Object.fromEntries(LOG_CATEGORIES.map((c) => [c, debugSubs.has(c)]));
    },
    setDebug(include: readonly string[], exclude: readonly string[]): void {
      for (const c of subsOf(include)) debugSubs.add(c);
      for (const c of subsOf(exclude)) debugSubs.delete(c);
      for (const [sub, c] of children) c.level = levelOf(sub);
    },
    reopen(): void {
      fileFailed = false;
      file?.reopen();
    },
    close(): Promise<void> {
      if (file === null) return Promise.resolve();
      const f = file;
      file = null;
      return new Promise((resolve) => {
        f.once('close', () => resolve());
        f.end();
      });
    },
  };
}

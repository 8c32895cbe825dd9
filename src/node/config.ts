// Node configuration: tally.conf plus command-line flags. Owns: reading the file (key=value,
// '#' comments, [main]/[test]/[regtest] sections, "regtest.key=value" prefixes), merging
// (defaults < top level < the network's section < flags) and validating every option. Does not
// own network parameters (ports default from ChainParams where the node is wired). Fails with a
// ConfigError naming the option, its source and why; nothing is started with a bad value.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

import { NETWORK_NAMES, type NetworkName } from '../consensus/params.js';

export const NETWORKS = NETWORK_NAMES;
export type Network = NetworkName;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface NodeConfig {
  network: Network;
  /** The base data directory (holds tally.conf); see networkDir for the network's own folder. */
  datadir: string;
  /** This network's data directory: datadir for main, datadir/test, datadir/regtest. */
  networkDir: string;
  /** The config file that was read, or would have been (it need not exist). */
  conf: string;
  /** P2P port; undefined = the network's default. */
  port?: number;
  bind: string[];
  /** RPC port; undefined = the network's default. */
  rpcport?: number;
  rpcbind: string[];
  rpcallowip: string[];
  rpcuser?: string;
  rpcpassword?: string;
  /** Host `tally rpc`/`tally wallet` reach the node on (the node itself ignores it). */
  rpcconnect?: string;
  connect: string[];
  addnode: string[];
  mine: boolean;
  /** Mining threads; 0 = one per core. */
  threads: number;
  mineaddress?: string;
  /** Database cache in MiB. */
  dbcache: number;
  maxconnections: number;
  daemon: boolean;
  /** Subsystems logged at debug level ('all' for every one). */
  debug: string[];
  loglevel: LogLevel;
  printtoconsole: boolean;
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'yes'].includes(v));
const nonEmpty = z.string().min(1);
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/);

interface OptionSpec {
  schema: z.ZodType<unknown, string>;
  expect: string;
  multi?: boolean;
  /** Only on the command line (it decides which file and section are read). */
  flagOnly?: boolean;
  help: string;
}

/** Every option tally.conf and the flags accept, with what a valid value looks like. */
export const OPTIONS: Record<string, OptionSpec> = {
  network: {
    schema: z.enum(['main', 'test', 'regtest'] as const satisfies readonly Network[]),
    expect: 'one of main, test, regtest',
    help: 'Network to use',
  },
  datadir: { schema: nonEmpty, expect: 'a directory path', flagOnly: true, help: 'Data directory' },
  conf: {
    schema: nonEmpty,
    expect: 'a file path',
    flagOnly: true,
    help: 'Config file (default DATADIR/tally.conf)',
  },
  port: {
    schema: int(0, 65535),
    expect: 'an integer 0..65535 (0 = any free port)',
    help: 'P2P listen port',
  },
  bind: { schema: hostPort, expect: 'an address[:port]', multi: true, help: 'P2P listen address' },
  rpcport: { schema: int(0, 65535), expect: 'an integer 0..65535 (0 = any free port)', help: 'RPC port' },
  rpcbind: { schema: hostPort, expect: 'an address[:port]', multi: true, help: 'RPC listen address' },
  rpcallowip: {
    schema: z.string().regex(/^[0-9a-fA-F:.]+(\/[0-9.]+)?$/),
    expect: 'an IP address or subnet (1.2.3.0/24, 1.2.3.0/255.255.255.0)',
    multi: true,
    help: 'Allow RPC clients from this address or subnet',
  },
  rpcuser: { schema: nonEmpty, expect: 'a non-empty user name', help: 'RPC user name' },
  rpcconnect: {
    schema: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.:-]+)$/),
    expect: 'a host name or IP address',
    help: 'Host the command line reaches the node on',
  },
  rpcpassword: { schema: nonEmpty, expect: 'a non-empty password', help: 'RPC password' },
  connect: {
    schema: nonEmpty,
    expect: 'a peer address (host:port or ws URL)',
    multi: true,
    help: 'Connect only to these peers',
  },
  addnode: {
    schema: nonEmpty,
    expect: 'a peer address (host:port or ws URL)',
    multi: true,
    help: 'Add a peer to connect to',
  },
  mine: { schema: bool, expect: 'a boolean (1/0/true/false)', help: 'Mine blocks' },
  threads: { schema: int(0, 1024), expect: 'an integer 0..1024 (0 = one per core)', help: 'Mining threads' },
  mineaddress: { schema: nonEmpty, expect: 'an address', help: 'Address paid by mined blocks' },
  dbcache: { schema: int(4, 65536), expect: 'an integer 4..65536 (MiB)', help: 'Database cache in MiB' },
  maxconnections: { schema: int(0, 10000), expect: 'an integer 0..10000', help: 'Maximum peer connections' },
  daemon: { schema: bool, expect: 'a boolean (1/0/true/false)', help: 'Run in the background' },
  debug: {
    schema: z.string().regex(/^[a-z0-9_,-]+$/),
    expect: 'a subsystem name, or "all"',
    multi: true,
    help: 'Log this subsystem at debug level',
  },
  loglevel: { schema: z.enum(LOG_LEVELS), expect: `one of ${LOG_LEVELS.join(', ')}`, help: 'Log level' },
  printtoconsole: { schema: bool, expect: 'a boolean (1/0/true/false)', help: 'Log to the console too' },
};

const DEFAULTS = {
  network: 'main',
  mine: false,
  threads: 0,
  dbcache: 450,
  maxconnections: 125,
  daemon: false,
  loglevel: 'info',
  printtoconsole: true,
} as const;

type Values = Map<string, { values: string[]; where: string }>;

export interface ConfFile {
  top: Values;
  sections: Record<Network, Values>;
}

// Own keys only: a file line "toString=1" or "__proto__=1" must be an unknown option, not
// Object.prototype's member.
function specOf(key: string): OptionSpec | undefined {
  return Object.hasOwn(OPTIONS, key) ? OPTIONS[key] : undefined;
}

function add(target: Values, key: string, value: string, where: string): void {
  const spec = specOf(key);
  if (spec === undefined) throw new ConfigError(`unknown option "${key}" (${where})`);
  if (spec.flagOnly)
    throw new ConfigError(`${key} cannot be set in the config file (${where}); use --${key}`);
  const prev = target.get(key);
  if (prev && spec.multi) prev.values.push(value);
  else target.set(key, { values: [value], where });
}

export function parseConfFile(text: string, file = 'tally.conf'): ConfFile {
  const conf: ConfFile = {
    top: new Map(),
    sections: { main: new Map(), test: new Map(), regtest: new Map() },
  };
  let current: Values = conf.top;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `${file} line ${i + 1}`;
    const line = lines[i].replace(/#.*$/, '').trim();
    if (line === '') continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      const name = section[1].trim();
      if (!(NETWORKS as readonly string[]).includes(name))
        throw new ConfigError(`unknown section [${name}] (${where}): expected [main], [test] or [regtest]`);
      current = conf.sections[name as Network];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`expected key=value (${where}): "${line}"`);
    let key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    let target = current;
    const dot = key.indexOf('.');
    if (dot > 0) {
      const net = key.slice(0, dot);
      if (!(NETWORKS as readonly string[]).includes(net))
        throw new ConfigError(`unknown network prefix "${net}." (${where})`);
      target = conf.sections[net as Network];
      key = key.slice(dot + 1);
    }
    if (key === 'network' && target !== conf.top)
      throw new ConfigError(`network cannot be set inside a network section (${where})`);
    add(target, key, value, where);
  }
  return conf;
}

/** Flags as commander gives them: option name -> value(s). undefined = not given. */
export type Flags = Record<string, string | number | boolean | string[] | undefined>;

function flagStrings(v: string | number | boolean | string[]): string[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'boolean') return [v ? '1' : '0'];
  return [String(v)];
}

export function defaultDataDir(home = homedir()): string {
  return join(home, '.tally');
}

export function networkDir(base: string, network: Network): string {
  return network === 'main' ? base : join(base, network);
}

function check(key: string, raw: string, where: string): unknown {
  const spec = OPTIONS[key]; // callers pass only keys specOf accepted
  const r = spec.schema.safeParse(raw);
  if (!r.success)
    throw new ConfigError(`invalid value for ${key}: expected ${spec.expect} (got "${raw}", ${where})`);
  return r.data;
}

export interface LoadOptions {
  home?: string;
  /** Reads the config file; undefined when it does not exist. Default: the file system. */
  readConf?: (path: string) => string | undefined;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
}

/** Reads tally.conf, applies flags and validates everything. */
export function loadConfig(flags: Flags, opts: LoadOptions = {}): NodeConfig {
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    if (specOf(k) === undefined) throw new ConfigError(`unknown option --${k}`);
  }
  const datadir = resolve(
    flags.datadir !== undefined
      ? String(check('datadir', String(flags.datadir), '--datadir'))
      : defaultDataDir(opts.home),
  );
  const explicitConf = flags.conf !== undefined;
  const conf = resolve(
    datadir,
    explicitConf ? String(check('conf', String(flags.conf), '--conf')) : 'tally.conf',
  );
  const text = (opts.readConf ?? readIfExists)(conf);
  if (text === undefined && explicitConf) throw new ConfigError(`config file ${conf} not found (--conf)`);
  const file = text === undefined ? parseConfFile('') : parseConfFile(text, conf);

  const merged: Values = new Map(file.top);
  const netFlag =
    flags.network !== undefined ? check('network', String(flags.network), '--network') : undefined;
  const network = (netFlag ??
    (merged.has('network')
      ? check('network', merged.get('network')!.values.at(-1)!, merged.get('network')!.where)
      : DEFAULTS.network)) as Network;
  for (const [k, v] of file.sections[network]) merged.set(k, v);
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || k === 'datadir' || k === 'conf') continue;
    merged.set(k, { values: flagStrings(v), where: `--${k}` });
  }

  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [k, { values, where }] of merged) {
    const spec = OPTIONS[k];
    if (spec.multi)
      out[k] = values.flatMap((v) => (k === 'debug' ? v.split(',') : [v])).map((v) => check(k, v, where));
    else out[k] = check(k, values[values.length - 1], where);
  }
  for (const k of ['bind', 'rpcbind', 'rpcallowip', 'connect', 'addnode', 'debug']) out[k] ??= [];
  out.network = network;
  out.datadir = datadir;
  out.networkDir = networkDir(datadir, network);
  out.conf = conf;
  const cfg = out as unknown as NodeConfig;
  if ((cfg.rpcuser === undefined) !== (cfg.rpcpassword === undefined))
    throw new ConfigError(
      'rpcuser and rpcpassword must be set together (or neither, to use the .cookie file)',
    );
  return cfg;
}

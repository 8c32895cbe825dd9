// Node configuration: tally.conf plus command-line flags. Owns: reading the file (key=value,
// '#' comments, [main]/[test]/[regtest] sections, "regtest.key=value" prefixes), merging
// (defaults < top level < the network's section < flags) and validating every option. Does not
// own network parameters (ports default from ChainParams where the node is wired). Fails with a
// ConfigError naming the option, its source and why; nothing is started with a bad value.
// The option table itself is config-options.ts.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { NetworkFileError, isNetworkFile, loadNetworkFile } from './network-file.js';
import {
  bool,
  DEBUG_CATEGORIES,
  LOG_LEVELS,
  NETWORKS,
  OPTIONS,
  REFUSED,
  type LogLevel,
  type Network,
  type OptionSpec,
} from './config-options.js';

export { DEBUG_CATEGORIES, LOG_LEVELS, NETWORKS, OPTIONS, REFUSED };
export type { LogLevel, Network };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface NodeConfig {
  /** main, test, regtest, or the name of a network of one's own (then chainFile is set). */
  network: string;
  /** The network file (`chain=NAME.json`, absolute) of a network of one's own. */
  chainFile?: string;
  /** The base data directory (holds tally.conf); see networkDir for the network's own folder. */
  datadir: string;
  /** This network's data directory: datadir for main, datadir/NETWORK for any other. */
  networkDir: string;
  /** The config file that was read, or would have been (it need not exist). */
  conf: string;
  /** P2P port; undefined = the network's default. */
  port?: number;
  bind: string[];
  /** Accept inbound peers (Core's -listen). */
  listen: boolean;
  /** RPC port; undefined = the network's default. */
  rpcport?: number;
  rpcbind: string[];
  rpcallowip: string[];
  rpcuser?: string;
  rpcpassword?: string;
  /** Core's rpcauth entries: "user:salt$hmac" (share/rpcauth/rpcauth.py writes them). */
  rpcauth: string[];
  /** Where the .cookie goes (relative to networkDir); undefined = networkDir/.cookie. */
  rpccookiefile?: string;
  /** Host `tally rpc`/`tally wallet` reach the node on (the node itself ignores it). */
  rpcconnect?: string;
  connect: string[];
  addnode: string[];
  /** Core's -whitelist entries (`[perms@]IP[/mask]`); noban is the permission Tally honours. */
  whitelist: string[];
  /** Core's -seednode: peers added to the address book like the network's own seeds. */
  seednode: string[];
  /** Appended to the user agent, as Core's -uacomment. */
  uacomment: string[];
  mine: boolean;
  /** Mining threads; 0 = one per core. */
  threads: number;
  mineaddress?: string;
  /** Nonce kernel of the mining threads; undefined = the fastest this machine runs. */
  minerkernel?: 'native-avx512' | 'native-sha-ni' | 'native-avx2' | 'native-scalar' | 'wasm-simd' | 'js';
  /** Stratum v1 port for miners (0 = any free port); undefined = no Stratum server. */
  stratum?: number;
  /** Address the Stratum server listens on (default 127.0.0.1). */
  stratumbind?: string;
  /** Starting share difficulty of a Stratum connection (default 0.001); vardiff moves it from there. */
  stratumdifficulty?: number;
  /** Database cache in MiB. */
  dbcache: number;
  maxconnections: number;
  daemon: boolean;
  /** Subsystems logged at debug level ('all' for every one). */
  debug: string[];
  loglevel: LogLevel;
  printtoconsole: boolean;
  /** Write the process id here (relative to networkDir) while running. */
  pid?: string;
  /** Serve Core's REST interface on the RPC port. */
  rest: boolean;
  /** Serve Prometheus metrics on the RPC port's GET /metrics. */
  metrics: boolean;
  /** Explorer web page port (0 = any free port); undefined = no explorer. */
  explorer?: number;
  /** Address the explorer listens on (default 127.0.0.1). */
  explorerbind?: string;
  /** Supervision: a reorg disconnecting more than this many blocks alerts. */
  alertreorgdepth: number;
  /** Supervision: a tip older than this many target spacings alerts. */
  alertstaletip: number;
  /** Supervision: a rival branch this long within one block's work of the tip alerts. */
  alertforklength: number;
  txindex: boolean;
  coinstatsindex: boolean;
  blockfilterindex: boolean;
  blocknotify?: string;
  walletnotify?: string;
  alertnotify?: string;
  startupnotify?: string;
  /** ZMQ publishers: topic -> endpoints (tcp://127.0.0.1:28332). */
  zmqpubhashblock: string[];
  zmqpubhashtx: string[];
  zmqpubrawblock: string[];
  zmqpubrawtx: string[];
  zmqpubsequence: string[];
  /** Wallet fee rate when no estimate is known, base units per 1,000 bytes. */
  fallbackfee?: bigint;
  /** The most fee one wallet transaction may pay, base units (Core's -maxtxfee, 0.1 coin). */
  maxtxfee?: bigint;
  /** Always true: the pool replaces by fee (Core's -mempoolfullrbf); kept so the option parses. */
  mempoolfullrbf?: boolean;
  /** Mempool floor, base units per 1,000 bytes. */
  minrelaytxfee?: bigint;
  /** Mempool budget in MB (10^6 bytes). */
  maxmempool?: number;
  limitancestorcount?: number;
  limitdescendantcount?: number;
  maxorphantx?: number;
  /** Core's -minimumchainwork: overrides the network's minimum chain work (hex). */
  minimumchainwork?: bigint;
  /** Core's -networkactive: false starts with no peers, dials or accepts until setnetworkactive true. */
  networkactive: boolean;
  /** Save the mempool at shutdown and load it at start. */
  persistmempool: boolean;
  /** Rebuild the block index and UTXO set from the block files at start (Core's -reindex). */
  reindex: boolean;
  /** Rebuild the UTXO set alone from the stored blocks at start (Core's -reindex-chainstate). */
  'reindex-chainstate': boolean;
  /** Core's -prune: 0 keeps every block, 1 prunes on pruneblockchain, N >= 550 keeps about N MiB. */
  prune: number;
  /** Blocks verified at start (Core's -checkblocks). */
  checkblocks?: number;
  /** Settings taken but with nothing to do in Tally: one line each, logged at start. */
  notes: string[];
  /**
   * Seconds between resubmissions of the wallets' unconfirmed transactions; undefined = a random
   * 12 to 36 hours each time, as Core's ResendWalletTransactions (tests set a few seconds).
   */
  walletresendinterval?: number;
  /**
   * Seconds a new connection has to complete the version handshake (Core's -peertimeout,
   * default 60; tests set a few seconds).
   */
  peertimeout?: number;
}

const OFF = new Set(['0', 'false', 'no']);

const DEFAULTS = {
  network: 'main',
  mine: false,
  threads: 0,
  dbcache: 450,
  maxconnections: 125,
  daemon: false,
  loglevel: 'info',
  printtoconsole: true,
  listen: true,
  rest: false,
  metrics: false,
  alertreorgdepth: 2,
  alertstaletip: 12,
  alertforklength: 2,
  txindex: false,
  coinstatsindex: false,
  blockfilterindex: false,
  networkactive: true,
  persistmempool: true,
  reindex: false,
  'reindex-chainstate': false,
  prune: 0,
} as const;
const MULTI_KEYS = Object.keys(OPTIONS).filter((k) => OPTIONS[k].multi);

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

/**
 * Core's negation: "nofoo=1" (or the flag -nofoo) is foo=0, "nofoo=0" is foo=1; only for boolean
 * options. Returns the key and value to store.
 */
function negated(key: string, value: string): [string, string] {
  if (specOf(key) !== undefined || Object.hasOwn(REFUSED, key) || !key.startsWith('no')) return [key, value];
  const base = key.slice(2);
  const spec = specOf(base);
  if (spec === undefined && !Object.hasOwn(REFUSED, base)) return [key, value];
  if (spec !== undefined && spec.schema !== bool && base !== 'connect' && base !== 'blockfilterindex')
    throw new ConfigError(`negating ${base} is not meaningful (-no${base}): ${base} expects ${spec.expect}`);
  const on = value === '' || !OFF.has(value);
  return [base, on ? '0' : '1'];
}

function add(target: Values, rawKey: string, rawValue: string, where: string): void {
  const [key, value] = negated(rawKey, rawValue);
  if (Object.hasOwn(REFUSED, key)) {
    if (OFF.has(value)) return; // the off spelling is what Tally does
    throw new ConfigError(`${key}=${value} is not supported (${where}): ${REFUSED[key]}`);
  }
  const spec = specOf(key);
  if (spec === undefined)
    throw new ConfigError(`Invalid configuration value: unknown option "${key}" (${where})`);
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
    if (['network', 'chain', 'regtest', 'testnet'].includes(key) && target !== conf.top)
      throw new ConfigError(`${key} cannot be set inside a network section (${where})`);
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

export function networkDir(base: string, network: string): string {
  return network === 'main' ? base : join(base, network);
}

/** The RPC cookie's path: rpccookiefile (relative to the network's folder) or .cookie there. */
export function cookiePath(cfg: Pick<NodeConfig, 'networkDir' | 'rpccookiefile'>): string {
  return resolve(cfg.networkDir, cfg.rpccookiefile ?? '.cookie');
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

/** Merges `from` into `into`: multi-valued keys accumulate, others are replaced. */
function mergeValues(into: Values, from: Values): void {
  for (const [k, v] of from) {
    const prev = into.get(k);
    if (prev && OPTIONS[k].multi) into.set(k, { values: [...prev.values, ...v.values], where: v.where });
    else into.set(k, { values: [...v.values], where: v.where });
  }
}

interface Chosen {
  network: string;
  /** Absolute path of a network file (chain=NAME.json). */
  chainFile?: string;
}

/**
 * The network named by network=, chain=, regtest=1 or testnet=1 in one set of values, if any. A
 * network file is read (relative paths from `base`) to learn its name.
 */
function networkIn(values: Values, base: string): Chosen | undefined {
  let net: Chosen | undefined;
  const pick = (k: string, n: string, chainFile?: string) => {
    if (net !== undefined && (net.network !== n || net.chainFile !== chainFile))
      throw new ConfigError(
        `${k} conflicts with the network already chosen (${net.chainFile ?? net.network}) (${values.get(k)!.where})`,
      );
    net = { network: n, chainFile };
  };
  for (const k of ['network', 'chain']) {
    if (!values.has(k)) continue;
    const { values: v, where } = values.get(k)!;
    const value = check(k, v.at(-1)!, where) as string;
    if (!isNetworkFile(value)) {
      pick(k, value);
      continue;
    }
    const path = resolve(base, value);
    try {
      pick(k, loadNetworkFile(path).name, path);
    } catch (e) {
      if (e instanceof NetworkFileError) throw new ConfigError(`${e.message} (${where})`);
      throw e;
    }
  }
  if (
    values.has('regtest') &&
    check('regtest', values.get('regtest')!.values.at(-1)!, values.get('regtest')!.where)
  )
    pick('regtest', 'regtest');
  if (
    values.has('testnet') &&
    check('testnet', values.get('testnet')!.values.at(-1)!, values.get('testnet')!.where)
  )
    pick('testnet', 'test');
  return net;
}

/** Core's MIN_DISK_SPACE_FOR_BLOCK_FILES in MiB: the smallest automatic prune target. */
export const MIN_PRUNE_MIB = 550;

/** Core's start-up refusals of prune settings, in Core's words. */
function checkPrune(cfg: NodeConfig): void {
  if (cfg.prune === 0) return;
  if (cfg.prune > 1 && cfg.prune < MIN_PRUNE_MIB)
    throw new ConfigError(
      `Prune configured below the minimum of ${MIN_PRUNE_MIB} MiB.  Please use a higher number.`,
    );
  if (cfg.txindex || cfg.explorer !== undefined)
    throw new ConfigError(
      `Prune mode is incompatible with -txindex.${cfg.explorer !== undefined ? ' (--explorer turns txindex on)' : ''}`,
    );
  if (cfg['reindex-chainstate'])
    throw new ConfigError('Prune mode is incompatible with -reindex-chainstate. Use full -reindex instead.');
}

/** Reads tally.conf (and its includeconf files), applies flags and validates everything. */
export function loadConfig(flags: Flags, opts: LoadOptions = {}): NodeConfig {
  const flagValues: Values = new Map();
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    const [key, value] = negated(k, flagStrings(v)[0] ?? '');
    if (Object.hasOwn(REFUSED, key)) {
      if (OFF.has(value)) continue;
      throw new ConfigError(`--${key}=${value} is not supported: ${REFUSED[key]}`);
    }
    if (specOf(key) === undefined) throw new ConfigError(`Invalid parameter: unknown option --${k}`);
    if (key === 'includeconf')
      throw new ConfigError('includeconf cannot be used on the command line; put it in the config file');
    flagValues.set(key, { values: key === k ? flagStrings(v) : [value], where: `--${k}` });
  }
  const read = opts.readConf ?? readIfExists;
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
  const text = read(conf);
  if (text === undefined && explicitConf) throw new ConfigError(`config file ${conf} not found (--conf)`);
  const file = text === undefined ? parseConfFile('') : parseConfFile(text, conf);

  // A network file named on the command line is found from the working directory; one named in
  // tally.conf from the data directory, as Core resolves the paths in its file.
  const chosen = networkIn(flagValues, process.cwd()) ??
    networkIn(file.top, datadir) ?? { network: DEFAULTS.network };
  const network = chosen.network;
  for (const k of ['network', 'chain', 'regtest', 'testnet']) flagValues.delete(k);
  // A network of one's own reads the top of tally.conf; the sections are Tally's three networks'.
  const sectionOf = (f: ConfFile): Values => f.sections[network as Network] ?? new Map();

  const merged: Values = new Map(file.top);
  mergeValues(merged, sectionOf(file));
  // Core's includeconf: files named at the top or in this network's section, read after the
  // main file (its own values win), relative to the data directory; they may not include more.
  const includes = merged.get('includeconf')?.values ?? [];
  merged.delete('includeconf');
  const fromIncludes: Values = new Map();
  for (const inc of includes) {
    const path = resolve(datadir, inc);
    const t = read(path);
    if (t === undefined) throw new ConfigError(`included config file ${path} not found (includeconf)`);
    const f = parseConfFile(t, path);
    for (const part of [f.top, sectionOf(f)])
      if (part.has('includeconf'))
        throw new ConfigError(
          `includeconf cannot be used in an included file (${part.get('includeconf')!.where})`,
        );
    const incNet = networkIn(f.top, datadir);
    if (incNet !== undefined && incNet.network !== network)
      throw new ConfigError(`${path} chooses another network than ${network}`);
    mergeValues(fromIncludes, f.top);
    mergeValues(fromIncludes, sectionOf(f));
  }
  for (const k of ['network', 'chain', 'regtest', 'testnet']) fromIncludes.delete(k);
  for (const [k, v] of fromIncludes)
    if (!merged.has(k) || OPTIONS[k].multi) mergeValues(merged, new Map([[k, v]]));
  for (const k of ['network', 'chain', 'regtest', 'testnet']) merged.delete(k);
  for (const [k, v] of flagValues) {
    if (k === 'datadir' || k === 'conf') continue;
    merged.set(k, v);
  }

  const out: Record<string, unknown> = { ...DEFAULTS };
  const notes: string[] = [];
  for (const [k, { values, where }] of merged) {
    const spec = OPTIONS[k];
    if (spec.multi)
      out[k] = values.flatMap((v) => (k === 'debug' ? v.split(',') : [v])).map((v) => check(k, v, where));
    else out[k] = check(k, values[values.length - 1], where);
    if (k === 'server' && out[k] === false)
      throw new ConfigError(
        `server=0 is not supported (${where}): Tally always serves RPC on 127.0.0.1 (the command line and wallet use it)`,
      );
    if (k === 'server') notes.push('server=1: RPC is always on in Tally');
    if (k === 'rpcthreads')
      notes.push(`rpcthreads=${String(out[k])}: RPC requests are served concurrently on one event loop`);
  }
  for (const k of MULTI_KEYS) out[k] ??= [];
  delete out.server;
  delete out.rpcthreads;
  delete out.includeconf;
  // Core's connect=0 (or -noconnect): no outbound connections at all.
  const connect = out.connect as string[];
  if (connect.includes('0')) {
    if (connect.length > 1)
      throw new ConfigError('connect=0 (no outbound peers) cannot be mixed with peers to connect to');
    notes.push('connect=0: no outbound connections');
  }
  const debug = out.debug as string[];
  if (debug.some((d) => d === '0' || d === 'none')) out.debug = [];
  out.network = network;
  if (chosen.chainFile !== undefined) out.chainFile = chosen.chainFile;
  out.datadir = datadir;
  out.networkDir = networkDir(datadir, network);
  out.conf = conf;
  out.notes = notes;
  const cfg = out as unknown as NodeConfig;
  checkPrune(cfg);
  if ((cfg.rpcuser === undefined) !== (cfg.rpcpassword === undefined))
    throw new ConfigError(
      'rpcuser and rpcpassword must be set together (or neither, to use the .cookie file)',
    );
  return cfg;
}

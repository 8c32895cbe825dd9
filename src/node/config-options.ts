// The options tally.conf and the command line accept: for each, its zod schema, what a valid
// value looks like and its help line; the options Core has that Tally refuses, and why. Owns: the
// table. Does not own: reading files or merging sources (config.ts).
import { z } from 'zod';

import { NETWORK_NAMES, type NetworkName } from '../consensus/params.js';
import { CORE_CATEGORY_ALIASES, LOG_CATEGORIES } from './logging.js';
import { parseSubnet } from '../p2p/banlist.js';

/**
 * Core's -whitelist permissions Tally honours: noban (never discouraged, disconnected for
 * misbehaviour or evicted; served deep blocks by a pruned node), and those whose grant every
 * Tally peer already has (mempool: BIP35 answered to all; relay: there is no blocks-only mode;
 * download: there is no upload target). An entry without `perms@` gets Core's implicit noban.
 */
const WHITELIST_PERMS = new Set(['noban', 'mempool', 'relay', 'download']);

/** A `[perms@]IP[/mask]` whitelist entry: its subnet and whether it grants noban; null for an
 * entry Tally cannot honour (a permission it lacks, not an address). */
export function parseWhitelist(entry: string): { net: string; noban: boolean } | null {
  const at = entry.lastIndexOf('@');
  const perms = at < 0 ? ['noban'] : entry.slice(0, at).split(',');
  const net = at < 0 ? entry : entry.slice(at + 1);
  if (!perms.every((p) => WHITELIST_PERMS.has(p)) || !parseSubnet(net)) return null;
  return { net, noban: perms.includes('noban') };
}

export const NETWORKS = NETWORK_NAMES;
export type Network = NetworkName;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
// Core reads "-txindex" (no value) and "txindex=" as true.
export const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => ['1', 'true', 'yes', ''].includes(v));
const nonEmpty = z.string().min(1);
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/);
/** Core's fee rates: coins per 1,000 bytes, up to 8 decimals -> base units. */
const feeRate = z
  .string()
  .regex(/^\d{1,8}(\.\d{1,8})?$/)
  .transform((v) => {
    const [whole, frac = ''] = v.split('.');
    return BigInt(whole) * 100_000_000n + BigInt(frac.padEnd(8, '0'));
  });
const zmqEndpoint = z.string().regex(/^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.*-]+):\d{1,5}$/);
const command = z.string().min(1).max(4096);
/** Logging subsystems Tally has, and Core's aliases (Core's unknown category is refused the same way). */
export const DEBUG_CATEGORIES = [
  'all',
  '1',
  '0',
  'none',
  ...LOG_CATEGORIES,
  ...Object.keys(CORE_CATEGORY_ALIASES),
] as [string, ...string[]];

export interface OptionSpec {
  schema: z.ZodType<unknown, string>;
  expect: string;
  multi?: boolean;
  /** Only on the command line (it decides which file and section are read). */
  flagOnly?: boolean;
  help: string;
}

const BOOL = 'a boolean (1/0/true/false)';
const boolOpt = (help: string): OptionSpec => ({ schema: bool, expect: BOOL, help });
const notifyOpt = (help: string): OptionSpec => ({
  schema: command,
  expect: 'a command line (at most 4096 characters)',
  help,
});
const zmqOpt = (what: string): OptionSpec => ({
  schema: zmqEndpoint,
  expect: 'a ZMQ endpoint tcp://ADDRESS:PORT',
  multi: true,
  help: `Publish ${what} on this ZMQ endpoint`,
});

/** Every option tally.conf and the flags accept, with what a valid value looks like. */
export const OPTIONS: Record<string, OptionSpec> = {
  network: {
    schema: z.enum(['main', 'test', 'regtest'] as const satisfies readonly Network[]),
    expect: 'one of main, test, regtest',
    help: 'Network to use',
  },
  // Core's spellings of the network: chain=regtest, regtest=1, testnet=1; and chain=NAME.json,
  // a network of one's own (`tally network create`).
  chain: {
    schema: z.union([z.enum(['main', 'test', 'regtest']), z.string().regex(/^.+\.json$/)]),
    expect: 'one of main, test, regtest, or a network file NAME.json',
    help: 'Network to use (Core spelling), or a network file written by `tally network create`',
  },
  regtest: boolOpt('Use the regtest network (Core spelling)'),
  testnet: boolOpt('Use the test network (Core spelling)'),
  datadir: { schema: nonEmpty, expect: 'a directory path', flagOnly: true, help: 'Data directory' },
  conf: {
    schema: nonEmpty,
    expect: 'a file path',
    flagOnly: true,
    help: 'Config file (default DATADIR/tally.conf)',
  },
  includeconf: {
    schema: nonEmpty,
    expect: 'a file path (relative to the data directory)',
    multi: true,
    help: 'Also read this config file',
  },
  port: {
    schema: int(0, 65535),
    expect: 'an integer 0..65535 (0 = any free port)',
    help: 'P2P listen port',
  },
  bind: { schema: hostPort, expect: 'an address[:port]', multi: true, help: 'P2P listen address' },
  listen: boolOpt('Accept inbound peers (default 1)'),
  server: boolOpt('Serve RPC (always on in Tally)'),
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
  rpcauth: {
    schema: z.string().regex(/^[^:\s]+:[0-9a-fA-F]+\$[0-9a-fA-F]{64}$/),
    expect: "USER:SALT$HMAC as Core's rpcauth.py prints it",
    multi: true,
    help: 'RPC user with a salted password hash',
  },
  rpccookiefile: {
    schema: nonEmpty,
    expect: 'a file path',
    help: 'Where the RPC cookie is written (relative to the network data directory)',
  },
  rpcthreads: {
    schema: int(1, 1024),
    expect: 'an integer 1..1024',
    help: 'RPC threads (requests are served concurrently on the event loop)',
  },
  rest: boolOpt('Serve the REST interface on the RPC port'),
  metrics: boolOpt('Serve Prometheus metrics on the RPC port (GET /metrics, no authentication)'),
  explorer: {
    schema: int(0, 65535),
    expect: 'an integer 0..65535 (0 = any free port)',
    help: 'Serve the read-only explorer web page on this port',
  },
  explorerbind: {
    schema: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.:-]+)$/),
    expect: 'a host name or IP address',
    help: 'Explorer listen address (default 127.0.0.1)',
  },
  alertreorgdepth: {
    schema: int(0, 1_000_000),
    expect: 'an integer (blocks)',
    help: 'Alert on a reorganisation disconnecting more than this many blocks (default 2)',
  },
  alertstaletip: {
    schema: z
      .string()
      .regex(/^\d{1,6}(\.\d{1,6})?$/)
      .transform(Number)
      .pipe(z.number().positive()),
    expect: 'a positive number of target spacings',
    help: 'Alert when the tip is older than this many target spacings (default 12)',
  },
  alertforklength: {
    schema: int(1, 1_000_000),
    expect: 'an integer 1.. (blocks)',
    help: "Alert on a rival branch this long whose work is within one block of the tip's (default 2)",
  },
  connect: {
    schema: nonEmpty,
    expect: 'a peer address (host:port or ws URL), or 0 for no outbound peers',
    multi: true,
    help: 'Connect only to these peers',
  },
  addnode: {
    schema: nonEmpty,
    expect: 'a peer address (host:port or ws URL)',
    multi: true,
    help: 'Add a peer to connect to',
  },
  whitelist: {
    schema: z.string().refine((v) => parseWhitelist(v) !== null),
    expect:
      '[permissions@]IP or IP/netmask, permissions of noban, mempool, relay, download (Tally grants every peer the last three)',
    multi: true,
    help: "Inbound peers from this address or subnet get Core's noban permission",
  },
  seednode: {
    schema: nonEmpty,
    expect: 'a peer address (host:port or ws URL)',
    multi: true,
    help: 'Add a peer to the address book as a seed',
  },
  uacomment: {
    schema: z.string().regex(/^[A-Za-z0-9 .,;_?@-]{1,64}$/),
    expect: 'text of letters, digits and " .,;_?@-" (at most 64)',
    multi: true,
    help: 'Comment in the user agent',
  },
  mine: { schema: bool, expect: BOOL, help: 'Mine blocks' },
  threads: { schema: int(0, 1024), expect: 'an integer 0..1024 (0 = one per core)', help: 'Mining threads' },
  mineaddress: { schema: nonEmpty, expect: 'an address', help: 'Address paid by mined blocks' },
  minerkernel: {
    schema: z.enum(['native-avx512', 'native-sha-ni', 'native-avx2', 'native-scalar', 'wasm-simd', 'js']),
    expect: 'one of native-avx512, native-sha-ni, native-avx2, native-scalar, wasm-simd, js',
    help: 'Nonce kernel of the mining threads (default: the fastest this machine runs)',
  },
  stratum: {
    schema: int(0, 65535),
    expect: 'an integer 0..65535 (0 = any free port)',
    help: 'Serve Stratum v1 miners on this port',
  },
  stratumbind: {
    schema: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.:-]+)$/),
    expect: 'a host name or IP address',
    help: 'Stratum listen address (default 127.0.0.1)',
  },
  stratumdifficulty: {
    schema: z
      .string()
      .regex(/^\d{1,15}(\.\d{1,15})?(e-?\d{1,3})?$/i)
      .transform(Number)
      .pipe(
        z
          .number()
          .min(2 ** -32)
          .max(2 ** 48),
      ),
    expect: 'a share difficulty from 2^-32 (2.33e-10) to 2^48',
    help: 'Starting share difficulty of a Stratum connection (default 0.001); vardiff adjusts it',
  },
  dbcache: { schema: int(4, 65536), expect: 'an integer 4..65536 (MiB)', help: 'Database cache in MiB' },
  maxconnections: { schema: int(0, 10000), expect: 'an integer 0..10000', help: 'Maximum peer connections' },
  daemon: { schema: bool, expect: BOOL, help: 'Run in the background' },
  debug: {
    schema: z.enum(DEBUG_CATEGORIES),
    expect:
      `a logging category (${LOG_CATEGORIES.join(', ')} or all; Core's ` +
      `${Object.keys(CORE_CATEGORY_ALIASES).join(', ')} name the subsystem that does their work)`,
    multi: true,
    help: 'Log this subsystem at debug level',
  },
  loglevel: { schema: z.enum(LOG_LEVELS), expect: `one of ${LOG_LEVELS.join(', ')}`, help: 'Log level' },
  printtoconsole: { schema: bool, expect: BOOL, help: 'Log to the console too' },
  pid: { schema: nonEmpty, expect: 'a file path', help: 'Write the process id to this file' },
  txindex: boolOpt('Keep an index of every transaction (getrawtransaction without a block hash)'),
  coinstatsindex: boolOpt(
    'Keep the UTXO set statistics of every block (MuHash; gettxoutsetinfo at any height)',
  ),
  blockfilterindex: {
    schema: z.enum(['1', '0', 'basic', 'true', 'false', '']).transform((v) => !['0', 'false'].includes(v)),
    expect: 'basic, 1 or 0',
    help: 'Keep BIP158 basic block filters (getblockfilter)',
  },
  blocknotify: notifyOpt('Run this command when the best block changes (%s = its hash)'),
  walletnotify: notifyOpt('Run this command when a wallet transaction changes (%s = txid, %w = wallet)'),
  alertnotify: notifyOpt('Run this command on a warning (%s = the message)'),
  startupnotify: notifyOpt('Run this command once the node has started'),
  zmqpubhashblock: zmqOpt('block hashes'),
  zmqpubhashtx: zmqOpt('transaction ids'),
  zmqpubrawblock: zmqOpt('raw blocks'),
  zmqpubrawtx: zmqOpt('raw transactions'),
  zmqpubsequence: zmqOpt('block and mempool sequence events'),
  fallbackfee: {
    schema: feeRate,
    expect: 'a fee rate in coins per 1,000 bytes',
    help: 'Wallet fee rate with no estimate',
  },
  maxtxfee: {
    schema: feeRate,
    expect: 'an amount in coins',
    help: 'Most fee one wallet transaction may pay (default 0.1)',
  },
  mempoolfullrbf: {
    // Tally's pool always replaces (full RBF, as Core's default since 28.0): only "on" is accepted.
    schema: z.enum(['1', 'true', 'yes', '']).transform(() => true),
    expect: '1 (Tally always allows replacement by fee; 0 is not supported)',
    help: 'Replacement by fee in the mempool (always on)',
  },
  minrelaytxfee: {
    schema: feeRate,
    expect: 'a fee rate in coins per 1,000 bytes',
    help: 'Mempool minimum fee rate',
  },
  maxmempool: {
    schema: int(5, 1_000_000),
    expect: 'an integer of MB, at least 5',
    help: 'Mempool size in MB',
  },
  limitancestorcount: {
    schema: int(1, 1000),
    expect: 'an integer 1..1000',
    help: 'Mempool ancestors per tx',
  },
  limitdescendantcount: {
    schema: int(1, 1000),
    expect: 'an integer 1..1000',
    help: 'Mempool descendants per tx',
  },
  maxorphantx: { schema: int(0, 100_000), expect: 'an integer 0..100000', help: 'Orphan transactions kept' },
  minimumchainwork: {
    schema: z
      .string()
      .regex(/^(0x)?[0-9a-fA-F]{1,64}$/)
      .transform((v) => BigInt('0x' + v.replace(/^0x/, ''))),
    expect: 'a hex number of at most 64 digits',
    help: "Chain work a header chain needs before it is stored or followed (default: the network's)",
  },
  networkactive: boolOpt('Start with P2P network activity on (default 1); setnetworkactive changes it'),
  persistmempool: boolOpt('Save the mempool at shutdown and load it at start (default 1)'),
  reindex: boolOpt('Rebuild the block index and the UTXO set from the block files (blocks/) at start'),
  'reindex-chainstate': boolOpt('Rebuild the UTXO set from the stored blocks at start'),
  prune: {
    schema: int(0, 2 ** 31 - 1),
    expect: 'an integer (MiB; 0 = off, 1 = pruneblockchain only, 550 or more = target)',
    help: 'Delete old block files, keeping about this many MiB of them and the last 288 blocks (default 0)',
  },
  checkblocks: {
    schema: int(0, 1_000_000),
    expect: 'an integer (0 = none)',
    help: 'Blocks verified at start',
  },
  walletresendinterval: {
    schema: int(1, 7 * 24 * 3600),
    expect: 'an integer 1..604800 (seconds)',
    help: "Seconds between rebroadcasts of the wallets' unconfirmed transactions (default 12-36 h)",
  },
  peertimeout: {
    schema: int(1, 3600),
    expect: 'an integer 1..3600 (seconds)',
    help: 'Seconds a new peer has to complete the version handshake (default 60)',
  },
};

/**
 * Core options that name something Tally does not do. Each is refused with its reason, except in
 * its "off" spelling (0), which is what Tally does anyway; none is ever silently ignored.
 */
const TOR = 'Tally peers speak WebSockets over TCP/IP; Tor, I2P, CJDNS and proxies are not supported';
const SEGWIT = 'Tally is a pre-SegWit chain (legacy addresses and scripts only)';
const FIXED = 'not configurable in Tally';
const LOGFMT = "Tally's log format is fixed (JSON lines in debug.log)";
const WALLETOPT = "not configurable in Tally's wallet (one per data directory; see docs/wallet.md)";
export const REFUSED: Record<string, string> = {
  blocksonly: 'blocks-only mode is not implemented yet',
  maxuploadtarget: 'an upload target is not implemented yet',
  whitebind: 'peer permissions (whitebind) are not implemented yet',
  mempoolexpiry: "not implemented yet: Tally's pool evicts by fee rate only, when full",
  proxy: TOR,
  onion: TOR,
  listenonion: TOR,
  torcontrol: TOR,
  torpassword: TOR,
  i2psam: TOR,
  i2pacceptincoming: TOR,
  cjdnsreachable: TOR,
  onlynet: TOR,
  proxyrandomize: TOR,
  upnp: 'port mapping (UPnP) is not supported',
  natpmp: 'port mapping (NAT-PMP) is not supported',
  discover: 'address discovery is not supported; announce an address with --bind',
  externalip: 'not supported; Tally announces the address it binds',
  dnsseed: 'Tally has no DNS seeds; its seeds are in genesis.json (use connect or addnode)',
  forcednsseed: 'Tally has no DNS seeds; its seeds are in genesis.json (use connect or addnode)',
  fixedseeds: 'not configurable in Tally (seeds come from genesis.json)',
  addresstype: SEGWIT,
  changetype: SEGWIT,
  v2transport: 'BIP324 transport is not supported (peers speak WebSockets)',
  signet: 'Tally has no signet; its networks are main, test and regtest',
  testnet4: 'Tally has no testnet4; its networks are main, test and regtest',
  peerbloomfilters: 'BIP37 bloom filters are not served',
  peerblockfilters: 'serving BIP157 filters to peers is not implemented yet',
  assumevalid: 'Tally checks every script (no assumed-valid block)',
  disablewallet: WALLETOPT,
  wallet: WALLETOPT,
  walletdir: WALLETOPT,
  keypool: WALLETOPT,
  paytxfee: WALLETOPT,
  txconfirmtarget: WALLETOPT,
  mintxfee: WALLETOPT,
  spendzeroconfchange: WALLETOPT,
  avoidpartialspends: WALLETOPT,
  walletbroadcast: WALLETOPT,
  walletrbf: WALLETOPT,
  discardfee: WALLETOPT,
  debuglogfile: LOGFMT,
  shrinkdebugfile: LOGFMT,
  logtimestamps: LOGFMT,
  logips: LOGFMT,
  logthreadnames: LOGFMT,
  logsourcelocations: LOGFMT,
  logtimemicros: LOGFMT,
  debugexclude: LOGFMT,
  limitancestorsize: FIXED,
  limitdescendantsize: FIXED,
  datacarrier: FIXED,
  datacarriersize: FIXED,
  permitbaremultisig: FIXED,
  acceptnonstdtxn: FIXED,
  bytespersigop: FIXED,
  incrementalrelayfee: FIXED,
  dustrelayfee: FIXED,
  blockmaxweight: FIXED,
  blockmintxfee: FIXED,
  blockversion: FIXED,
  rpcworkqueue: FIXED,
  rpcservertimeout: FIXED,
  rpcwhitelist: FIXED,
  rpcwhitelistdefault: FIXED,
  par: FIXED,
  loadblock: FIXED,
  blocksdir: FIXED,
  settings: FIXED,
  sysperms: FIXED,
  maxsigcachesize: FIXED,
  checklevel: FIXED,
  stopatheight: FIXED,
  timeout: FIXED,
  bantime: FIXED,
  maxreceivebuffer: FIXED,
  maxsendbuffer: FIXED,
  maxtimeadjustment: FIXED,
  zmqpubhashblockhwm: FIXED,
  zmqpubhashtxhwm: FIXED,
  zmqpubrawblockhwm: FIXED,
  zmqpubrawtxhwm: FIXED,
  zmqpubsequencehwm: FIXED,
};

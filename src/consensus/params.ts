// Chain parameters: every network's constants and genesis block.
// Owns: loading and validating genesis.json (Tally's main, test and regtest) and the `bitcoin`
// preset that lets tests run Bitcoin mainnet blocks through the same rules. Does not own: the
// rules that use these numbers. A bad file fails with ParamsError, whose message names the file,
// network and field ("genesis.json: main.magic: expected 8 lowercase hex chars"); an unknown
// network name is a RangeError.
import { z } from 'zod';
import genesisJson from '../../genesis.json' with { type: 'json' };
import { Block, BlockHeader } from '../primitives/block.js';
import { DecodeError, bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import { createGenesisBlock, pushBytes } from './genesis.js';
import { checkProofOfWork, compactToTarget, targetToCompact } from './pow.js';

export type NetworkName = 'main' | 'test' | 'regtest';
export const NETWORK_NAMES: readonly NetworkName[] = ['main', 'test', 'regtest'];

/** A network of one's own (`tally network create NAME`): its name is also its data folder's. */
export const CUSTOM_NETWORK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Names a network of one's own cannot take: Tally's and Bitcoin's, and folders a data directory holds. */
export const RESERVED_NETWORK_NAMES: readonly string[] = [
  ...NETWORK_NAMES,
  'bitcoin',
  'blocks',
  'chainstate',
  'indexes',
  'wallets',
];

export type RetargetRule =
  | { kind: 'asert'; halfLife: number }
  | { kind: 'bitcoin'; interval: number; targetTimespan: number }
  | { kind: 'none' };

export interface ChainParams {
  /** main, test, regtest, bitcoin, or the name of a network of one's own. */
  name: string;
  /** The 4 bytes that open every message, in wire order. */
  magic: Uint8Array;
  defaultPort: number;
  rpcPort: number;
  prefixes: { pubkeyHash: number; scriptHash: number; wif: number };
  powLimit: bigint;
  powLimitBits: number;
  targetSpacing: number;
  retarget: RetargetRule;
  initialSubsidy: bigint;
  halvingInterval: number;
  coinbaseMaturity: number;
  maxBlockSize: number;
  maxBlockSigops: number;
  /**
   * Chain work below which a header chain is not worth following while catching up (Core's
   * nMinimumChainWork): a peer offering only such a chain is dropped, and the node counts as
   * catching up until its tip has this much work.
   */
  minimumChainWork: bigint;
  seeds: string[];
  genesis: Block;
  /** Internal byte order. */
  genesisHash: Uint8Array;
  bip16Height: number;
  bip34Height: number;
  /**
   * Core's BIP34Hash (display hex): the block at bip34Height of the chain on which BIP34 has been
   * enforced since that height. On that chain no transaction can repeat an unspent one, so
   * BIP30's reads are skipped below BIP34_IMPLIES_BIP30_LIMIT (consensus/connect.ts). Null: BIP30
   * is checked at every height, as on Core's regtest.
   */
  bip34Hash: string | null;
  bip65Height: number;
  bip66Height: number;
  /** BIP68/112/113. */
  csvHeight: number;
  bip147Height: number;
  bip30Exceptions: { height: number; hash: string /* display hex */ }[];
}

export class ParamsError extends Error {
  override readonly name = 'ParamsError';
  constructor(
    /** Dotted path of the offending field, e.g. "main.genesis.hash". */
    readonly field: string,
    readonly reason: string,
    readonly file = 'genesis.json',
  ) {
    super(`${file}: ${field}: ${reason}`);
  }
}

// ---- the file's schema -------------------------------------------------------------------------

const hex = (chars: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`), { error: `expected ${chars} lowercase hex chars` });
const uint = (max: number) => z.number().int().min(0).max(max);
const height = uint(0x7fffffff);
const port = z.number().int().min(1).max(65535);
const byte = uint(255);

const GenesisSchema = z.strictObject({
  hash: hex(64),
  version: z.number().int().min(-0x80000000).max(0x7fffffff),
  prevHash: hex(64),
  merkleRoot: hex(64),
  time: uint(0xffffffff),
  bits: hex(8),
  nonce: uint(0xffffffff),
  message: z.string().min(1),
  coinbase: z.string().regex(/^([0-9a-f]{2})+$/, { error: 'expected raw transaction hex' }),
});

// Peers are reached over WebSockets, so a seed is a ws:// or wss:// URL (no DNS seeding).
const seedUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'expected a ws:// or wss:// URL' },
);

const NetworkSchema = z.strictObject({
  name: z.string().regex(CUSTOM_NETWORK_NAME, { error: 'expected lowercase letters, digits and -' }),
  magic: hex(8),
  defaultPort: port,
  rpcPort: port,
  prefixes: z.strictObject({ pubkeyHash: byte, scriptHash: byte, wif: byte }),
  powLimit: hex(64),
  powLimitBits: hex(8),
  targetSpacing: z.number().int().min(1),
  retarget: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('asert'), halfLife: z.number().int().min(1) }),
    z.strictObject({
      kind: z.literal('bitcoin'),
      interval: z.number().int().min(1),
      targetTimespan: z.number().int().min(1),
    }),
    z.strictObject({ kind: z.literal('none') }),
  ]),
  initialSubsidy: z.string().regex(/^[1-9][0-9]*$/, { error: 'expected a positive decimal integer string' }),
  halvingInterval: z.number().int().min(1),
  coinbaseMaturity: uint(1_000_000),
  maxBlockSize: z.number().int().min(81),
  maxBlockSigops: z.number().int().min(1),
  minimumChainWork: hex(64),
  seeds: z.array(seedUrl).max(64),
  bip16Height: height,
  bip34Height: height,
  bip34Hash: hex(64).optional(),
  bip65Height: height,
  bip66Height: height,
  csvHeight: height,
  bip147Height: height,
  bip30Exceptions: z.array(z.strictObject({ height, hash: hex(64) })),
  genesis: GenesisSchema,
});

const FileSchema = z.strictObject({ main: NetworkSchema, test: NetworkSchema, regtest: NetworkSchema });

export type NetworkJson = z.infer<typeof NetworkSchema>;

/** A network's rules as `networkEntry` writes them (genesis.json's fields less the genesis block). */
export type NetworkRules = Pick<
  ChainParams,
  | 'name'
  | 'defaultPort'
  | 'rpcPort'
  | 'prefixes'
  | 'powLimitBits'
  | 'targetSpacing'
  | 'retarget'
  | 'initialSubsidy'
  | 'halvingInterval'
  | 'coinbaseMaturity'
  | 'maxBlockSize'
  | 'maxBlockSigops'
  | 'seeds'
> & {
  /** 8 hex chars, wire order. */
  magic: string;
  /**
   * The genesis block is the BIP34 block (bip34Hash), as every block after it is BIP34's: BIP30's
   * reads are skipped. Default true; false for regtest, as Core's regtest checks BIP30 always.
   */
  bip34ImpliesBIP30?: boolean;
};

/**
 * One network's entry in genesis.json's format (what scripts/mine-genesis.ts and `tally network
 * create` write): every soft fork from height 0 and no minimum chain work, as a new chain has no
 * history to demand. `message` is the text the genesis coinbase carries.
 */
export function networkEntry(r: NetworkRules, genesis: Block, message: string): NetworkJson {
  const h = genesis.header;
  const hex8 = (n: number) => n.toString(16).padStart(8, '0');
  return {
    name: r.name,
    magic: r.magic,
    defaultPort: r.defaultPort,
    rpcPort: r.rpcPort,
    prefixes: { ...r.prefixes },
    powLimit: compactToTarget(r.powLimitBits).target.toString(16).padStart(64, '0'),
    powLimitBits: hex8(r.powLimitBits),
    targetSpacing: r.targetSpacing,
    retarget: { ...r.retarget },
    initialSubsidy: r.initialSubsidy.toString(),
    halvingInterval: r.halvingInterval,
    coinbaseMaturity: r.coinbaseMaturity,
    maxBlockSize: r.maxBlockSize,
    maxBlockSigops: r.maxBlockSigops,
    minimumChainWork: '0'.repeat(64),
    seeds: [...r.seeds],
    bip16Height: 0,
    bip34Height: 0,
    ...(r.bip34ImpliesBIP30 === false ? {} : { bip34Hash: genesis.hashHex() }),
    bip65Height: 0,
    bip66Height: 0,
    csvHeight: 0,
    bip147Height: 0,
    bip30Exceptions: [],
    genesis: {
      hash: genesis.hashHex(),
      version: h.version,
      prevHash: bytesToHex(h.prevHash),
      merkleRoot: genesis.txs[0].txidHex(),
      time: h.time,
      bits: hex8(h.bits),
      nonce: h.nonce,
      message,
      coinbase: bytesToHex(genesis.txs[0].encode()),
    },
  };
}

// ---- building and checking ChainParams ---------------------------------------------------------

function buildNetwork(key: string, n: NetworkJson, file = 'genesis.json'): ChainParams {
  const fail = (field: string, reason: string): never => {
    throw new ParamsError(`${key}.${field}`, reason, file);
  };
  if (n.name !== key) fail('name', `expected "${key}", found "${n.name}"`);
  const { pubkeyHash, scriptHash } = n.prefixes;
  if (pubkeyHash === scriptHash) fail('prefixes', 'pubkeyHash and scriptHash must differ');

  const powLimit = BigInt('0x' + n.powLimit);
  const powLimitBits = parseInt(n.powLimitBits, 16);
  if (powLimit === 0n) fail('powLimit', 'must be above zero');
  if (targetToCompact(powLimit) !== powLimitBits) {
    fail('powLimitBits', `expected ${targetToCompact(powLimit).toString(16)}, the compact form of powLimit`);
  }

  const g = n.genesis;
  let coinbase: Tx;
  try {
    coinbase = Tx.decode(hexToBytes(g.coinbase));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return fail('genesis.coinbase', `not a transaction (${e.message})`);
  }
  if (!coinbase.isCoinbase()) fail('genesis.coinbase', 'not a coinbase transaction');
  const message = new TextEncoder().encode(g.message);
  if (!bytesToHex(coinbase.inputs[0].scriptSig).includes(bytesToHex(message))) {
    fail('genesis.message', 'does not appear in the coinbase scriptSig');
  }
  if (g.prevHash !== '0'.repeat(64))
    fail('genesis.prevHash', 'a genesis block has no parent: expected all zeros');
  if (coinbase.txidHex() !== g.merkleRoot) {
    fail('genesis.merkleRoot', `recorded ${g.merkleRoot} but the coinbase gives ${coinbase.txidHex()}`);
  }
  const bits = parseInt(g.bits, 16);
  const header = new BlockHeader(g.version, hexToBytes(g.prevHash), coinbase.txid(), g.time, bits, g.nonce);
  if (header.hashHex() !== g.hash)
    fail('genesis.hash', `recorded ${g.hash} but the header hashes to ${header.hashHex()}`);

  const params: ChainParams = {
    name: key,
    magic: hexToBytes(n.magic),
    defaultPort: n.defaultPort,
    rpcPort: n.rpcPort,
    prefixes: { ...n.prefixes },
    powLimit,
    powLimitBits,
    targetSpacing: n.targetSpacing,
    retarget: { ...n.retarget },
    initialSubsidy: BigInt(n.initialSubsidy),
    halvingInterval: n.halvingInterval,
    coinbaseMaturity: n.coinbaseMaturity,
    maxBlockSize: n.maxBlockSize,
    maxBlockSigops: n.maxBlockSigops,
    minimumChainWork: BigInt('0x' + n.minimumChainWork),
    seeds: [...n.seeds],
    genesis: new Block(header, [coinbase]),
    genesisHash: header.hash(),
    bip16Height: n.bip16Height,
    bip34Height: n.bip34Height,
    bip34Hash: n.bip34Hash ?? null,
    bip65Height: n.bip65Height,
    bip66Height: n.bip66Height,
    csvHeight: n.csvHeight,
    bip147Height: n.bip147Height,
    bip30Exceptions: n.bip30Exceptions.map((e) => ({ ...e })),
  };
  const { negative, overflow, target } = compactToTarget(bits);
  if (negative || overflow || target === 0n || target > powLimit) {
    fail('genesis.bits', 'not a valid target within powLimit');
  }
  if (!checkProofOfWork(params.genesisHash, bits, params))
    fail('genesis.nonce', 'the header does not meet its bits');
  return freeze(params);
}

// Parameters are shared by every part of a node; freezing makes an accidental write fail loudly.
function freeze(p: ChainParams): ChainParams {
  Object.freeze(p.prefixes);
  Object.freeze(p.retarget);
  Object.freeze(p.seeds);
  for (const e of p.bip30Exceptions) Object.freeze(e);
  Object.freeze(p.bip30Exceptions);
  return Object.freeze(p);
}

/** Validates a parsed genesis.json and builds each network's parameters; throws ParamsError. */
function parseWith<T>(schema: z.ZodType<T>, json: unknown, file: string): T {
  const parsed = schema.safeParse(json, {
    error: (iss) => (iss.code === 'invalid_type' && iss.input === undefined ? 'missing' : undefined),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join('.');
    throw new ParamsError(path === '' ? '(top level)' : path, issue.message, file);
  }
  return parsed.data;
}

/** Networks must not be mistaken for one another on the wire or on one machine. */
function checkDistinct(networks: ChainParams[], file: string): void {
  const seen = new Map<string, string>();
  const unique = (value: string, field: string) => {
    const prior = seen.get(value);
    if (prior) throw new ParamsError(field, `same as ${prior}`, file);
    seen.set(value, field);
  };
  for (const p of networks) unique('magic:' + bytesToHex(p.magic), `${p.name}.magic`);
  for (const p of networks) {
    unique('port:' + p.defaultPort, `${p.name}.defaultPort`);
    unique('port:' + p.rpcPort, `${p.name}.rpcPort`);
  }
}

/** Validates a parsed genesis.json and builds each network's parameters; throws ParamsError. */
export function parseGenesisFile(json: unknown): Record<NetworkName, ChainParams> {
  const data = parseWith(FileSchema, json, 'genesis.json');
  const out = {} as Record<NetworkName, ChainParams>;
  for (const key of NETWORK_NAMES) out[key] = buildNetwork(key, data[key]);
  checkDistinct(Object.values(out), 'genesis.json');
  return out;
}

/**
 * Validates a network of one's own (`tally network create` writes it): genesis.json's format
 * holding one network, keyed by its name, which must not be Tally's or collide with Tally's magic
 * or ports (a node must never take one network's peers for another's). Throws ParamsError naming
 * `file`.
 */
export function parseNetworkFile(json: unknown, file: string): ChainParams {
  const data = parseWith(z.record(z.string(), NetworkSchema), json, file);
  const keys = Object.keys(data);
  if (keys.length !== 1)
    throw new ParamsError('(top level)', `expected one network, found ${keys.length}`, file);
  const key = keys[0];
  if (RESERVED_NETWORK_NAMES.includes(key))
    throw new ParamsError(key, `"${key}" is reserved; a network of one's own needs another name`, file);
  const params = buildNetwork(key, data[key], file);
  checkDistinct([...NETWORK_NAMES.map((n) => getParams(n)), params], file);
  return params;
}

// ---- Bitcoin mainnet, for running Bitcoin's own blocks and headers in tests ----------------------

function bitcoinParams(): ChainParams {
  // Core's CreateGenesisBlock: scriptSig pushes 486604799 (0x1d00ffff), the number 4, the headline.
  const scriptSig = new Uint8Array([
    ...pushBytes(hexToBytes('ffff001d')),
    ...pushBytes(Uint8Array.of(4)),
    ...pushBytes(
      new TextEncoder().encode('The Times 03/Jan/2009 Chancellor on brink of second bailout for banks'),
    ),
  ]);
  const satoshiKey =
    '04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f';
  const genesis = createGenesisBlock({
    version: 1,
    time: 1231006505,
    bits: 0x1d00ffff,
    nonce: 2083236893,
    scriptSig,
    reward: 50n * 100_000_000n,
    outputScript: new Uint8Array([...pushBytes(hexToBytes(satoshiKey)), 0xac /* OP_CHECKSIG */]),
  });
  const expected = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
  if (genesis.hashHex() !== expected)
    throw new ParamsError('bitcoin.genesis', 'built block does not hash to ' + expected);
  return freeze({
    name: 'bitcoin',
    magic: hexToBytes('f9beb4d9'),
    defaultPort: 8333,
    rpcPort: 8332,
    prefixes: { pubkeyHash: 0, scriptHash: 5, wif: 128 },
    powLimit: BigInt('0x00000000' + 'f'.repeat(56)),
    powLimitBits: 0x1d00ffff,
    targetSpacing: 600,
    retarget: { kind: 'bitcoin', interval: 2016, targetTimespan: 14 * 24 * 60 * 60 },
    initialSubsidy: 50n * 100_000_000n,
    halvingInterval: 210_000,
    coinbaseMaturity: 100,
    maxBlockSize: 1_000_000,
    maxBlockSigops: 20_000,
    // The preset replays recorded blocks in tests; it never follows peers.
    minimumChainWork: 0n,
    seeds: [],
    genesis,
    genesisHash: genesis.hash(),
    // BIP16 was enforced by time in 2012; height 0 is right for every block the tests hold.
    bip16Height: 0,
    bip34Height: 227931,
    bip34Hash: '000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8',
    bip65Height: 388381,
    bip66Height: 363725,
    csvHeight: 419328,
    bip147Height: 481824,
    bip30Exceptions: [
      { height: 91842, hash: '00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec' },
      { height: 91880, hash: '00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721' },
    ],
  });
}

let tally: Record<NetworkName, ChainParams> | undefined;
let bitcoin: ChainParams | undefined;

/** Parameters of a network; genesis.json is validated on first use and a bad file throws ParamsError. */
export function getParams(name: NetworkName | 'bitcoin'): ChainParams {
  if (name === 'bitcoin') return (bitcoin ??= bitcoinParams());
  tally ??= parseGenesisFile(genesisJson);
  const p = tally[name];
  if (!p) throw new RangeError(`unknown network "${String(name)}"`);
  return p;
}

// `tally network create`: a network of one's own. Owns: choosing what a new network needs that the
// operator did not give (a fresh random magic, ports apart from Tally's, the genesis coinbase's
// text) and mining its genesis block now, on every core with the node's own miner, so ASERT starts
// on schedule instead of racing to catch up with an old genesis time. Does not own the file's
// format or checks (consensus/params.ts) or writing it (the CLI). Fails with RangeError naming the
// option that is out of range.
import { randomBytes, randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createGenesisBlock, pushBytes } from '../consensus/genesis.js';
import {
  CUSTOM_NETWORK_NAME,
  NETWORK_NAMES,
  RESERVED_NETWORK_NAMES,
  getParams,
  networkEntry,
  parseNetworkFile,
  type ChainParams,
  type NetworkJson,
  type NetworkRules,
} from '../consensus/params.js';
import { compactToTarget } from '../consensus/pow.js';
import { bytesToHex } from '../primitives/bytes.js';
import { Miner } from '../mining/miner.js';

const COIN = 100_000_000n;
const OP_0 = 0x00;
const OP_RETURN = 0x6a;
/** Core's bad-cb-length: a coinbase scriptSig holds at most 100 bytes (OP_0 and one push here). */
const MAX_MESSAGE_BYTES = 100 - 1 - 2;
/** Ports for new networks come from here, in pairs (RPC, P2P = RPC + 1), as Tally's own are. */
const PORT_FROM = 20_000;
const PORT_TO = 60_000;

export interface CreateNetworkOptions {
  name: string;
  seeds?: string[];
  /** Target seconds between blocks (default 600). */
  spacing?: number;
  /** ASERT half-life in seconds (default 36 spacings, main's 6 hours at 600 s); 0 = no retarget. */
  halfLife?: number;
  maxBlockSize?: number;
  /** First block reward in base units (default 50 coins). */
  subsidy?: bigint;
  prefixes?: Partial<NetworkRules['prefixes']>;
  /** Compact proof-of-work limit (default main's 0x1e00ffff, ~2^24 hashes a block). */
  powLimitBits?: number;
  port?: number;
  rpcPort?: number;
  /** Text for the genesis coinbase (default: the network's name and creation time). */
  message?: string;
  /** Genesis time, unix seconds (default now). */
  time?: number;
  /** Mining threads (default one per core). */
  threads?: number;
}

export interface CreatedNetwork {
  /** The file's content: genesis.json's format, one network keyed by its name. */
  file: Record<string, NetworkJson>;
  params: ChainParams;
  hashes: number;
  /** Mining threads used (one per core unless told). */
  threads: number;
  seconds: number;
}

function intIn(option: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new RangeError(`${option}: expected an integer ${min}..${max}, got ${v}`);
  return v;
}

function freshMagic(): string {
  const taken = new Set([...NETWORK_NAMES.map((n) => bytesToHex(getParams(n).magic)), 'f9beb4d9']);
  for (;;) {
    const m = bytesToHex(randomBytes(4));
    if (!taken.has(m)) return m;
  }
}

function freshPorts(): { port: number; rpcPort: number } {
  const taken = new Set(NETWORK_NAMES.flatMap((n) => [getParams(n).defaultPort, getParams(n).rpcPort]));
  for (;;) {
    const rpcPort = randomInt(PORT_FROM / 2, PORT_TO / 2) * 2;
    if (!taken.has(rpcPort) && !taken.has(rpcPort + 1)) return { port: rpcPort + 1, rpcPort };
  }
}

/** Builds the rules, mines the genesis block and validates the result as any node will. */
export async function createNetwork(o: CreateNetworkOptions): Promise<CreatedNetwork> {
  if (!CUSTOM_NETWORK_NAME.test(o.name))
    throw new RangeError(`network name "${o.name}": expected lowercase letters, digits and - (at most 32)`);
  if (RESERVED_NETWORK_NAMES.includes(o.name))
    throw new RangeError(`network name "${o.name}" is reserved; choose another`);
  const spacing = intIn('--spacing', o.spacing ?? 600, 1, 86_400);
  const halfLife = intIn('--half-life', o.halfLife ?? spacing * 36, 0, 0x7fffffff);
  const maxBlockSize = intIn('--max-block-size', o.maxBlockSize ?? 1_000_000, 1_000, 32_000_000);
  const subsidy = o.subsidy ?? 50n * COIN;
  if (subsidy <= 0n || subsidy > 21_000_000n * COIN)
    throw new RangeError('--subsidy: expected more than 0 and at most 21,000,000 coins');
  const test = getParams('test').prefixes;
  const prefixes = { ...test, ...o.prefixes };
  const flag = { pubkeyHash: '--prefix-p2pkh', scriptHash: '--prefix-p2sh', wif: '--prefix-wif' };
  for (const k of Object.keys(flag) as (keyof typeof flag)[]) intIn(flag[k], prefixes[k], 0, 255);
  if (prefixes.pubkeyHash === prefixes.scriptHash)
    throw new RangeError('--prefix-p2pkh and --prefix-p2sh must differ');
  const powLimitBits = o.powLimitBits ?? getParams('main').powLimitBits;
  const powLimit = compactToTarget(powLimitBits);
  if (powLimit.negative || powLimit.overflow || powLimit.target === 0n)
    throw new RangeError(`--pow-limit: ${powLimitBits.toString(16)} is not a valid compact target`);
  const ports = o.port === undefined && o.rpcPort === undefined ? freshPorts() : undefined;
  const time = o.time ?? Math.floor(Date.now() / 1000);
  const created = new Date(time * 1000).toISOString().slice(0, 16) + 'Z';
  const message = o.message ?? `${o.name}: a Tally network created ${created}, ${spacing} s blocks`;
  const messageBytes = new TextEncoder().encode(message);
  if (messageBytes.length > MAX_MESSAGE_BYTES)
    throw new RangeError(`--message: at most ${MAX_MESSAGE_BYTES} bytes (a coinbase holds 100)`);
  const rules: NetworkRules = {
    name: o.name,
    magic: freshMagic(),
    defaultPort: intIn('--port', o.port ?? ports?.port ?? o.rpcPort! + 1, 1, 65535),
    rpcPort: intIn('--rpcport', o.rpcPort ?? ports?.rpcPort ?? o.port! - 1, 1, 65535),
    prefixes,
    powLimitBits,
    targetSpacing: spacing,
    retarget: halfLife === 0 ? { kind: 'none' } : { kind: 'asert', halfLife },
    initialSubsidy: subsidy,
    halvingInterval: 210_000,
    coinbaseMaturity: 100,
    maxBlockSize,
    maxBlockSigops: Math.max(1, Math.floor(maxBlockSize / 50)),
    seeds: o.seeds ?? [],
  };

  const threads = o.threads ?? availableParallelism();
  const miner = Miner.create({ threads });
  const started = performance.now();
  try {
    await miner.ready();
    for (let t = time; ; t++) {
      const spec = {
        version: 1,
        time: t,
        bits: powLimitBits,
        nonce: 0,
        // BIP34: the coinbase opens with its height, 0.
        scriptSig: Uint8Array.of(OP_0, ...pushBytes(messageBytes)),
        reward: subsidy,
        // Nobody can spend the genesis reward, as on Tally's own networks.
        outputScript: Uint8Array.of(OP_RETURN),
      };
      const found = await miner.search({
        header: createGenesisBlock(spec).header.encode(),
        target: powLimit.target,
      });
      if (!found) continue; // nonce space exhausted: the next second
      const genesis = createGenesisBlock({ ...spec, nonce: found.nonce });
      const file = { [o.name]: networkEntry(rules, genesis, message) };
      return {
        file,
        params: parseNetworkFile(file, `${o.name}.json`),
        hashes: miner.hashes,
        threads,
        seconds: (performance.now() - started) / 1000,
      };
    }
  } finally {
    await miner.close();
  }
}

// Stratum v1, the parts both ends share: newline-framed JSON with a bounded line, the request and
// notify shapes, share difficulty and its target, the coinbase split around the extra-nonces, the
// coinbase's merkle branch and the header a submit describes. Owns the wire format only; the
// server (server.ts) and the miner's client (client.ts) own their state. Fails with StratumError
// (a code from the Stratum convention and one line) on anything malformed; never throws otherwise.
import { sha256d } from '../crypto/hash.js';
import { BlockHeader } from '../primitives/block.js';
import { bytesToHex, concatBytes, hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';

/**
 * Longest line either end accepts. The longest well-formed message is a notify with a full merkle
 * branch (12 levels for 4,000 transactions: under 2 KiB); ckpool reads at most a page per message
 * as well. A peer that sends more without a newline is dropped.
 */
export const MAX_LINE_BYTES = 16 * 1024;
/** Bytes of extranonce1 the server assigns per connection, and of extranonce2 the miner rolls. */
export const EXTRANONCE1_SIZE = 4;
export const EXTRANONCE2_SIZE = 4;
/** BIP320's general-purpose version bits: what version rolling (BIP310) may touch. */
export const VERSION_ROLLING_MASK = 0x1fffe000;
/** Difficulty 1 (Bitcoin's "bdiff" 1): the target 0x00000000ffff0000…0. */
export const DIFF1_TARGET = 0xffffn << 208n;
const MAX_TARGET = (1n << 256n) - 1n;

/** Error codes as the Stratum pools use them (slush, ckpool): 20 other, 21 job not found… */
export const Err = {
  OTHER: 20,
  JOB_NOT_FOUND: 21,
  DUPLICATE: 22,
  LOW_DIFFICULTY: 23,
  UNAUTHORIZED: 24,
  NOT_SUBSCRIBED: 25,
} as const;

export class StratumError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'StratumError';
  }
}

export interface Request {
  id: number | string | null;
  method: string;
  params: unknown[];
}

/** Parses one line as a request or notification; a response (no method) has method ''. */
export function parseMessage(line: string): Request & { result?: unknown; error?: unknown } {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    throw new StratumError(Err.OTHER, 'not JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    throw new StratumError(Err.OTHER, 'not an object');
  const o = msg as Record<string, unknown>;
  const id = o.id ?? null;
  if (id !== null && typeof id !== 'number' && typeof id !== 'string')
    throw new StratumError(Err.OTHER, 'bad id');
  if (o.method === undefined) return { id, method: '', params: [], result: o.result, error: o.error };
  if (typeof o.method !== 'string' || o.method.length > 64) throw new StratumError(Err.OTHER, 'bad method');
  const params = o.params ?? [];
  if (!Array.isArray(params)) throw new StratumError(Err.OTHER, 'params must be an array');
  return { id, method: o.method, params };
}

/** Splits a byte stream into lines, refusing a line longer than maxBytes. */
export class LineReader {
  private buf = '';

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** The complete lines in `chunk` (empty ones skipped); throws StratumError past the bound. */
  push(chunk: string): string[] {
    this.buf += chunk;
    const parts = this.buf.split('\n');
    this.buf = parts.pop() ?? '';
    if (this.buf.length > this.maxBytes)
      throw new StratumError(Err.OTHER, `line longer than ${this.maxBytes} bytes`);
    const lines: string[] = [];
    for (const p of parts) {
      const line = p.trim();
      if (line.length > this.maxBytes)
        throw new StratumError(Err.OTHER, `line longer than ${this.maxBytes} bytes`);
      if (line) lines.push(line);
    }
    return lines;
  }
}

/** Share target for a difficulty (DIFF1_TARGET / difficulty), capped at 2^256 - 1. */
export function difficultyToTarget(difficulty: number): bigint {
  if (!Number.isFinite(difficulty) || difficulty <= 0)
    throw new RangeError('difficulty must be a positive number');
  // difficulty = m * 2^e exactly (m a 53-bit integer), so the division is exact up to flooring.
  let e = Math.floor(Math.log2(difficulty)) - 52;
  let m = difficulty / 2 ** e;
  while (!Number.isInteger(m)) {
    e--;
    m *= 2;
  }
  const t = e >= 0 ? DIFF1_TARGET / (BigInt(m) << BigInt(e)) : (DIFF1_TARGET << BigInt(-e)) / BigInt(m);
  return t > MAX_TARGET ? MAX_TARGET : t;
}

/** The difficulty whose target is `target` (approximately, as a float). */
export function targetToDifficulty(target: bigint): number {
  return Number(DIFF1_TARGET) / Number(target > 0n ? target : 1n);
}

/** A u32 as the 8 hex digits Stratum uses for version, nbits, ntime and nonce (big-endian). */
export const u32ToHex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

export function hexToU32(hex: unknown, field: string): number {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{8}$/.test(hex))
    throw new StratumError(Err.OTHER, `${field} must be 8 hex digits`);
  return parseInt(hex, 16) >>> 0;
}

export function hexField(hex: unknown, bytes: number, field: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== 2 * bytes || !/^[0-9a-fA-F]*$/.test(hex))
    throw new StratumError(Err.OTHER, `${field} must be ${bytes} bytes of hex`);
  return hexToBytes(hex);
}

/** Stratum's prevhash: the internal byte order with each 4-byte word reversed. */
export function swapWords(hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(hash.length);
  for (let i = 0; i < hash.length; i += 4) for (let j = 0; j < 4; j++) out[i + j] = hash[i + 3 - j];
  return out;
}

/**
 * The sibling hashes from the coinbase (leaf 0) up to the merkle root, internal byte order:
 * root = fold(sha256d(acc || sibling), coinbase txid). `txids` are the other transactions'.
 */
export function merkleBranch(txids: readonly Uint8Array[]): Uint8Array[] {
  const branch: Uint8Array[] = [];
  // Level 0 without its first leaf (the coinbase, unknown here).
  let level = txids.slice();
  while (level.length > 0) {
    branch.push(level[0]);
    const next: Uint8Array[] = [];
    // Pairs after the coinbase's: (1,2), (3,4), … with the last duplicated when alone.
    for (let i = 1; i < level.length; i += 2)
      next.push(sha256d(concatBytes(level[i], level[i + 1] ?? level[i])));
    level = next;
  }
  return branch;
}

export function rootFromBranch(coinbaseTxid: Uint8Array, branch: readonly Uint8Array[]): Uint8Array {
  let acc = coinbaseTxid;
  for (const h of branch) acc = sha256d(concatBytes(acc, h));
  return acc;
}

/**
 * A coinbase cut around the extra-nonces: coinb1 ends with the push of the 8 extra-nonce bytes
 * that the coinbase's scriptSig carries after its BIP34 height, coinb2 starts right after them.
 */
export function splitCoinbase(coinbase: Tx): { coinb1: Uint8Array; coinb2: Uint8Array } {
  const raw = coinbase.encode();
  const script = coinbase.inputs[0].scriptSig;
  const size = EXTRANONCE1_SIZE + EXTRANONCE2_SIZE;
  if (script.length < size + 1 || script[script.length - size - 1] !== size)
    throw new RangeError('the coinbase scriptSig must end with an 8-byte push for the extra-nonces');
  // version (4), input count (1), prevout (36), script length (1: scriptSig < 0xfd bytes)
  const scriptStart = 4 + 1 + 36 + 1;
  const cut = scriptStart + script.length - size;
  return { coinb1: raw.subarray(0, cut), coinb2: raw.subarray(cut + size) };
}

export interface JobHeader {
  version: number;
  /** Internal byte order. */
  prevHash: Uint8Array;
  coinb1: Uint8Array;
  coinb2: Uint8Array;
  branch: readonly Uint8Array[];
  bits: number;
}

/** The coinbase and header a share describes. */
export function shareHeader(
  job: JobHeader,
  extranonce1: Uint8Array,
  extranonce2: Uint8Array,
  time: number,
  nonce: number,
  version = job.version,
): { coinbase: Uint8Array; header: BlockHeader } {
  const coinbase = concatBytes(job.coinb1, extranonce1, extranonce2, job.coinb2);
  const root = rootFromBranch(sha256d(coinbase), job.branch);
  return { coinbase, header: new BlockHeader(version, job.prevHash, root, time, job.bits, nonce) };
}

/** The notify params for a job (clean: drop all earlier jobs). */
export function notifyParams(jobId: string, job: JobHeader, time: number, clean: boolean): unknown[] {
  return [
    jobId,
    bytesToHex(swapWords(job.prevHash)),
    bytesToHex(job.coinb1),
    bytesToHex(job.coinb2),
    job.branch.map((h) => bytesToHex(h)),
    u32ToHex(job.version),
    u32ToHex(job.bits),
    u32ToHex(time),
    clean,
  ];
}

/** A notify read back (client side); throws StratumError on a malformed one. */
export function parseNotify(params: unknown[]): JobHeader & { jobId: string; time: number; clean: boolean } {
  if (params.length < 9 || typeof params[0] !== 'string' || !Array.isArray(params[4]))
    throw new StratumError(Err.OTHER, 'malformed mining.notify');
  const hexAny = (v: unknown, field: string): Uint8Array => {
    if (typeof v !== 'string' || v.length % 2 !== 0 || v.length > 2 * MAX_LINE_BYTES)
      throw new StratumError(Err.OTHER, `${field} must be hex`);
    return hexField(v, v.length / 2, field);
  };
  return {
    jobId: params[0],
    prevHash: swapWords(hexField(params[1], 32, 'prevhash')),
    coinb1: hexAny(params[2], 'coinb1'),
    coinb2: hexAny(params[3], 'coinb2'),
    branch: (params[4] as unknown[]).map((h) => hexField(h, 32, 'merkle branch')),
    version: hexToU32(params[5], 'version'),
    bits: hexToU32(params[6], 'nbits'),
    time: hexToU32(params[7], 'ntime'),
    clean: params[8] === true,
  };
}

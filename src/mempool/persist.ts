// The pool's contents across a restart in Bitcoin Core's mempool.dat format (kernel/mempool_persist):
// a u64 version (1, or 2 followed by an XOR key that obfuscates the rest of the file), a u64 count,
// per entry the transaction, its i64 entry time and i64 fee delta (prioritisetransaction), then
// Core's mapDeltas (the deltas of transactions not in the pool) and the unbroadcast set. Written to
// a temporary file and renamed so a crash never leaves half a file. Loading re-validates
// everything against the current tip; what no longer fits is dropped, not fatal.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { isRejectError } from '../consensus/errors.js';
import { BufferReader, BufferWriter, DecodeError, bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import { PolicyReason } from './policy.js';
import type { Mempool } from './mempool.js';

/** Core's MEMPOOL_DUMP_VERSION_NO_XOR_KEY and MEMPOOL_DUMP_VERSION. */
export const MEMPOOL_DUMP_VERSION_NO_XOR_KEY = 1;
export const MEMPOOL_DUMP_VERSION = 2;
/** Core writes an 8-byte key; a longer one than this is not a key. */
const MAX_XOR_KEY = 64;
/** The smallest entry: a 10-byte transaction (no inputs, no outputs) and two i64s. */
const MIN_ENTRY = 26;

export interface SavedEntry {
  /** Entry time, Unix seconds. */
  time: number;
  tx: Tx;
  /** prioritisetransaction's delta, base units (0 when none). */
  feeDelta: bigint;
}

export interface MempoolFile {
  /** 1: no key; 2: `key` XORs everything after it (Core's default since v28). */
  version: number;
  key: Uint8Array;
  entries: SavedEntry[];
  /** Core's mapDeltas as written: [internal txid hex, delta] for transactions not in the pool. */
  deltas: [txid: string, delta: bigint][];
  /** Internal txid hex of transactions not yet announced to a peer. */
  unbroadcast: string[];
}

/** XORs data[from..] in place with `key`, aligned on absolute file offsets as Core's AutoFile. */
function xorFrom(data: Uint8Array, from: number, key: Uint8Array): void {
  if (key.length === 0) return;
  for (let p = from; p < data.length; p++) data[p] ^= key[p % key.length];
}

export function encodeMempoolFile(f: MempoolFile): Uint8Array {
  const w = new BufferWriter(1024);
  w.u64(BigInt(f.version));
  if (f.version === MEMPOOL_DUMP_VERSION) w.varint(f.key.length).bytes(f.key);
  const start = f.version === MEMPOOL_DUMP_VERSION ? 8 + 1 + f.key.length : 8;
  w.u64(BigInt(f.entries.length));
  for (const e of f.entries) {
    e.tx.write(w);
    w.i64(BigInt(e.time)).i64(e.feeDelta);
  }
  w.varint(f.deltas.length);
  for (const [txid, delta] of f.deltas) w.bytes(hexToBytes(txid)).i64(delta);
  w.varint(f.unbroadcast.length);
  for (const txid of f.unbroadcast) w.bytes(hexToBytes(txid));
  const out = w.finish();
  if (f.version === MEMPOOL_DUMP_VERSION) xorFrom(out, start, f.key);
  return out;
}

/** Throws DecodeError (its field names the file and the part) on anything but a whole file. */
export function decodeMempoolFile(input: Uint8Array, path = 'mempool.dat'): MempoolFile {
  try {
    return decodeFile(input);
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(e.reason, `${path} ${e.field ?? ''}`.trim());
    throw e;
  }
}

function decodeFile(input: Uint8Array): MempoolFile {
  let r = new BufferReader(input);
  const version = r.u64('mempool.version');
  if (version !== BigInt(MEMPOOL_DUMP_VERSION_NO_XOR_KEY) && version !== BigInt(MEMPOOL_DUMP_VERSION))
    throw new DecodeError(`unknown mempool.dat version ${version} (Core writes 1 or 2)`, 'mempool.version');
  let key = new Uint8Array(0);
  if (version === BigInt(MEMPOOL_DUMP_VERSION)) {
    key = r.varCopy('mempool.key', MAX_XOR_KEY);
    const data = input.slice();
    xorFrom(data, r.pos, key);
    const at = r.pos;
    r = new BufferReader(data);
    r.pos = at;
  }
  const count = r.u64('mempool.count');
  if (count > BigInt(Math.floor(r.remaining / MIN_ENTRY)))
    throw new DecodeError(`${count} entries cannot fit in ${r.remaining} bytes`, 'mempool.count');
  const entries: SavedEntry[] = [];
  for (let i = 0; i < Number(count); i++) {
    const tx = Tx.read(r);
    const time = r.i64('mempool.time');
    // Times outside ±2^53 are not times: refuse them rather than round them.
    if (time > BigInt(Number.MAX_SAFE_INTEGER) || time < -BigInt(Number.MAX_SAFE_INTEGER))
      throw new DecodeError(`entry time out of range`, 'mempool.time');
    entries.push({ tx, time: Number(time), feeDelta: r.i64('mempool.fee_delta') });
  }
  const deltas: [string, bigint][] = [];
  const nDeltas = r.varint('mempool.deltas', Math.floor(r.remaining / 40));
  for (let i = 0; i < nDeltas; i++) {
    const txid = bytesToHex(r.bytes(32, 'mempool.deltas.txid'));
    deltas.push([txid, r.i64('mempool.deltas.amount')]);
  }
  const unbroadcast: string[] = [];
  const nUnbroadcast = r.varint('mempool.unbroadcast', Math.floor(r.remaining / 32));
  for (let i = 0; i < nUnbroadcast; i++) unbroadcast.push(bytesToHex(r.bytes(32, 'mempool.unbroadcast')));
  r.end('mempool');
  return { version: Number(version), key, entries, deltas, unbroadcast };
}

export interface SaveOptions {
  /** Core's -persistmempoolv1: write version 1, without the XOR key. */
  v1?: boolean;
}

/** Writes the pool, each entry with its delta, and the deltas of transactions not in it. */
export async function saveMempool(pool: Mempool, path: string, opts: SaveOptions = {}): Promise<number> {
  const entries = pool
    .all()
    .sort((a, b) => a.time - b.time)
    .map((e) => ({ time: e.time, tx: e.tx, feeDelta: pool.feeDelta(e.txid) }));
  const deltas = pool
    .prioritised()
    .filter(([txid]) => !pool.has(txid))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const v1 = opts.v1 === true;
  writeFileAtomic(
    path,
    encodeMempoolFile({
      version: v1 ? MEMPOOL_DUMP_VERSION_NO_XOR_KEY : MEMPOOL_DUMP_VERSION,
      key: v1 ? new Uint8Array(0) : new Uint8Array(randomBytes(8)),
      entries,
      deltas,
      unbroadcast: [],
    }),
  );
  return entries.length;
}

/** Core's ImportMempoolOptions; the defaults are a start's (importmempool's differ). */
export interface LoadOptions {
  /** Every entry enters now rather than at its saved time. */
  useCurrentTime?: boolean;
  /** Apply the saved fee deltas (each entry's and mapDeltas). */
  applyFeeDeltaPriority?: boolean;
  /** Read but not applied: Tally keeps no unbroadcast set (getmempoolinfo's unbroadcastcount is 0). */
  applyUnbroadcastSet?: boolean;
}

export interface LoadResult {
  loaded: number;
  failed: number;
  alreadyThere: number;
  /** Fee deltas applied (entries' and mapDeltas'). */
  deltas: number;
}

/**
 * Re-accepts the saved transactions in their original order, each entry's delta applied before it
 * enters (as Core, so a prioritised one gets in below the fee floors), then mapDeltas.
 */
export async function loadMempool(pool: Mempool, path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { loaded: 0, failed: 0, alreadyThere: 0, deltas: 0 };
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw e;
  }
  const saved = decodeMempoolFile(data, path);
  const applyDeltas = opts.applyFeeDeltaPriority ?? true;
  const now = Math.floor(Date.now() / 1000);
  for (const { time, tx, feeDelta } of saved.entries) {
    if (applyDeltas && feeDelta !== 0n) {
      pool.prioritise(bytesToHex(tx.txid()), feeDelta);
      result.deltas++;
    }
    try {
      await pool.accept(tx, { bypassFeeChecks: true, time: opts.useCurrentTime ? now : time });
      result.loaded++;
    } catch (e) {
      if (!isRejectError(e)) throw e;
      if (e.reason === PolicyReason.ALREADY_IN_MEMPOOL) result.alreadyThere++;
      else result.failed++;
    }
  }
  if (applyDeltas)
    for (const [txid, delta] of saved.deltas) {
      pool.prioritise(txid, delta);
      result.deltas++;
    }
  return result;
}

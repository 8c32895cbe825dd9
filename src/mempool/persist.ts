// The pool's contents across a restart (Core's mempool.dat): each transaction with its entry
// time, written to a temporary file and renamed so a crash never leaves half a file. Loading
// re-validates everything against the current tip; what no longer fits is dropped, not fatal.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { isRejectError } from '../consensus/errors.js';
import { BufferReader, BufferWriter, DecodeError } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import type { Mempool } from './mempool.js';

const MAGIC = 0x4d504c31; // "MPL1"

export interface SavedEntry {
  /** Entry time, Unix seconds. */
  time: number;
  tx: Tx;
}

/** mempool.dat: magic, CompactSize count, then per entry a u64 time and the transaction. */
export function encodeMempoolFile(entries: readonly SavedEntry[]): Uint8Array {
  const w = new BufferWriter(1024);
  w.u32(MAGIC).varint(entries.length);
  for (const e of entries) w.u64(BigInt(e.time)).varBytes(e.tx.encode());
  return w.finish();
}

/** Throws DecodeError (field names the part, `path` the file) on anything but a whole file. */
export function decodeMempoolFile(data: Uint8Array, path = 'mempool.dat'): SavedEntry[] {
  const r = new BufferReader(data);
  if (r.u32('mempool.magic') !== MAGIC) throw new DecodeError('not a Tally mempool file', path);
  // An entry takes at least 19 bytes (time, a length byte, the smallest transaction).
  const n = r.varint('mempool.count', Math.floor(r.remaining / 19));
  const saved: SavedEntry[] = [];
  for (let i = 0; i < n; i++) {
    const time = r.u64('mempool.time');
    // Times past 2^53 are not times: refuse them rather than round them.
    if (time > BigInt(Number.MAX_SAFE_INTEGER))
      throw new DecodeError('entry time out of range', 'mempool.time');
    saved.push({ time: Number(time), tx: Tx.decode(r.varBytes('mempool.tx', r.remaining)) });
  }
  r.end('mempool');
  return saved;
}

export async function saveMempool(pool: Mempool, path: string): Promise<number> {
  const entries = pool.all().sort((a, b) => a.time - b.time);
  writeFileAtomic(path, encodeMempoolFile(entries));
  return entries.length;
}

/** Re-accepts the saved transactions in their original order. Returns { loaded, failed }. */
export async function loadMempool(pool: Mempool, path: string): Promise<{ loaded: number; failed: number }> {
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: 0, failed: 0 };
    throw e;
  }
  const saved = decodeMempoolFile(data, path);
  let loaded = 0;
  let failed = 0;
  for (const { time, tx } of saved) {
    try {
      await pool.accept(tx, { bypassFeeChecks: true, time });
      loaded++;
    } catch (e) {
      if (!isRejectError(e)) throw e;
      failed++;
    }
  }
  return { loaded, failed };
}

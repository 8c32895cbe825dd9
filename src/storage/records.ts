// The records of the chain databases: key layout (one-byte prefixes) and value encodings of
// coins, index entries (with their block-file positions) and undo data, and the schema versions.
// Pure: no I/O. A value that does not decode raises DecodeError (decodeOrCorrupt turns it into
// ChainCorruptionError naming the record).
import { BlockHeader, HEADER_SIZE } from '../primitives/block.js';
import { BufferReader, BufferWriter, DecodeError } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import { ChainCorruptionError, type BlockUndo, type IndexRecord, type StoredCoin } from '../chain/ports.js';

/** Schema of chainstate/: 2 holds coins and markers only; 1 also held blocks, undo and index. */
export const SCHEMA_VERSION = 2;
/** Schema of blocks/index/. */
export const INDEX_VERSION = 1;

export const P_BLOCK = 0x62; // 'b' + hash: raw block (schema 1 chainstate only)
export const P_INDEX = 0x69; // 'i' + hash: IndexRecord (+ file positions in blocks/index)
export const P_UNDO = 0x75; // 'u' + hash: BlockUndo (schema 1 chainstate only)
export const P_COIN = 0x63; // 'c' + txid + index (u32 BE, so an iteration is in outpoint order)
export const P_META = 0x6d; // 'm' + name

/** Every key of one prefix, as LevelDB's range bounds. */
export const range = (prefix: number) => ({ gte: Uint8Array.of(prefix), lt: Uint8Array.of(prefix + 1) });

export const META_VERSION = metaKey('version');
export const META_REINDEX = metaKey('reindex');
export const META_BEST = metaKey('best');
export const META_HEADS = metaKey('heads');

export function metaKey(name: string): Uint8Array {
  return Uint8Array.from([P_META, ...Buffer.from(name, 'ascii')]);
}

export function hashKey(prefix: number, hash: Uint8Array): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = prefix;
  k.set(hash, 1);
  return k;
}

export function coinKey(op: OutPoint): Uint8Array {
  return writeCoinKey(new Uint8Array(37), op);
}

/**
 * The keys of many outpoints, as views into one buffer: a small typed array of its own lives in
 * V8's heap, and LevelDB's binding, needing its address, first moves each such key out of it (an
 * allocation and a copy per key, a third of a getMany's cost on the calling thread); views into a
 * buffer that is already outside the heap need no move.
 */
export function coinKeys(ops: readonly OutPoint[]): Uint8Array[] {
  const buf = new Uint8Array(new ArrayBuffer(37 * ops.length));
  return ops.map((op, i) => writeCoinKey(buf.subarray(37 * i, 37 * i + 37), op));
}

function writeCoinKey(k: Uint8Array, op: OutPoint): Uint8Array {
  k[0] = P_COIN;
  k.set(op.hash, 1);
  // The index big-endian (keys sort by outpoint), without a DataView per key.
  const i = op.index;
  k[33] = i >>> 24;
  k[34] = (i >>> 16) & 0xff;
  k[35] = (i >>> 8) & 0xff;
  k[36] = i & 0xff;
  return k;
}

export function coinKeyToOutPoint(k: Uint8Array): OutPoint {
  return new OutPoint(k.slice(1, 33), new DataView(k.buffer, k.byteOffset).getUint32(33, false));
}

function writeCoin(w: BufferWriter, c: StoredCoin): void {
  // Height and the coinbase flag share one varint, as in Bitcoin Core's Coin serialisation.
  w.varint(c.height * 2 + (c.coinbase ? 1 : 0))
    .i64(c.value)
    .varBytes(c.script);
}

function readCoin(r: BufferReader): StoredCoin {
  const code = r.varint('coin.code', 0xffffffff);
  const value = r.i64('coin.value');
  // A plain copy: LevelDB hands back Buffers, which would keep its whole read buffer alive.
  const script = new Uint8Array(r.varBytes('coin.script', r.remaining));
  return { value, script, height: Math.floor(code / 2), coinbase: code % 2 === 1 };
}

export function encodeCoin(c: StoredCoin): Uint8Array {
  const w = new BufferWriter(16 + c.script.length);
  writeCoin(w, c);
  return w.finish();
}

export function decodeCoin(v: Uint8Array): StoredCoin {
  const r = new BufferReader(v);
  const c = readCoin(r);
  r.end('coin');
  return c;
}

export function encodeIndex(rec: IndexRecord): Uint8Array {
  const w = new BufferWriter(HEADER_SIZE + 48);
  rec.header.write(w);
  const work = new Uint8Array(32);
  let x = rec.chainWork;
  for (let i = 31; i >= 0; i--, x >>= 8n) work[i] = Number(x & 0xffn);
  w.u32(rec.height).bytes(work).u32(rec.status).u32(rec.sequence);
  return w.finish();
}

export function decodeIndex(v: Uint8Array): IndexRecord {
  const r = new BufferReader(v);
  const rec = readIndex(r);
  r.end('index');
  return rec;
}

function readIndex(r: BufferReader): IndexRecord {
  const header = BlockHeader.read(r);
  const height = r.u32('index.height');
  let chainWork = 0n;
  for (const b of r.bytes(32, 'index.chainWork')) chainWork = (chainWork << 8n) | BigInt(b);
  const status = r.u32('index.status');
  const sequence = r.u32('index.sequence');
  return { header, height, chainWork, status, sequence };
}

/** Where a block's bytes and undo data are in the block files (Core's nFile, nDataPos, nUndoPos). */
export interface BlockLocation {
  file: number;
  /** Offset of the block's bytes in blk<file>.dat; -1 when not stored. */
  data: number;
  /** Offset of the undo data in rev<file>.dat; -1 when not written yet. */
  undo: number;
}

const NONE = 0xffffffff;

/** An entry of blocks/index: the chain's record and, when stored, its block's location. */
export function encodeIndexEntry(rec: IndexRecord, loc: BlockLocation | undefined): Uint8Array {
  const w = new BufferWriter(HEADER_SIZE + 60);
  w.bytes(encodeIndex(rec));
  w.u32(loc ? loc.file : NONE)
    .u32(loc && loc.data >= 0 ? loc.data : NONE)
    .u32(loc && loc.undo >= 0 ? loc.undo : NONE);
  return w.finish();
}

export function decodeIndexEntry(v: Uint8Array): { rec: IndexRecord; loc: BlockLocation | undefined } {
  const r = new BufferReader(v);
  const rec = readIndex(r);
  const file = r.u32('index.file');
  const data = r.u32('index.dataPos');
  const undo = r.u32('index.undoPos');
  r.end('index');
  if (file === NONE) {
    // One spelling of "not stored", so an entry re-encodes to the bytes it was read from.
    if (data !== NONE || undo !== NONE) throw new DecodeError('positions without a file', 'index.file');
    return { rec, loc: undefined };
  }
  return { rec, loc: { file, data: data === NONE ? -1 : data, undo: undo === NONE ? -1 : undo } };
}

export function encodeUndo(undo: BlockUndo): Uint8Array {
  // Sized once for the whole block (an upper bound: every varint at its longest), so the writer
  // never grows and copies on the way (that growth was 0.7 us per input in bench connect).
  let size = 9;
  for (const tx of undo) {
    size += 9;
    for (const c of tx) size += 9 + 8 + 9 + c.script.length;
  }
  const w = new BufferWriter(size);
  w.varint(undo.length);
  for (const tx of undo) {
    w.varint(tx.length);
    for (const c of tx) writeCoin(w, c);
  }
  return w.finish();
}

export function decodeUndo(v: Uint8Array): BlockUndo {
  const r = new BufferReader(v);
  // Each coin takes at least 10 bytes and each transaction entry at least one.
  const n = r.varint('undo.txs', r.remaining);
  const out: BlockUndo = [];
  for (let i = 0; i < n; i++) {
    const m = r.varint('undo.inputs', Math.floor(r.remaining / 10));
    const coins: StoredCoin[] = [];
    for (let j = 0; j < m; j++) coins.push(readCoin(r));
    out.push(coins);
  }
  r.end('undo');
  return out;
}

/** A decode of a stored value: its DecodeError becomes ChainCorruptionError naming `what`. */
export function decodeOrCorrupt<T>(what: string, v: Uint8Array, fn: (v: Uint8Array) => T): T {
  try {
    return fn(v);
  } catch (e) {
    if (e instanceof DecodeError) throw new ChainCorruptionError(`database corrupted: ${what}: ${e.message}`);
    throw e;
  }
}

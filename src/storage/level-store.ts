// storage/: the classic-level (LevelDB) implementation of chain/ports.ts.
// Owns: key layout (one-byte prefixes), value encodings (BufferWriter), the schema version, and
// turning a chain batch into one atomic LevelDB write. Does not own: what the records mean (chain/).
// How it fails: a value that does not decode, or a schema version it does not know, raises
// ChainCorruptionError naming the record; LevelDB errors (locked directory, I/O) pass through.
// A full disk (a write that would leave less than Core's 50 MiB margin, or one that fails with
// ENOSPC) raises DiskFullError, tells onDiskFull once, and refuses every later write, as LevelDB
// itself does after an I/O error: what is on disk stays at the last whole batch, as after a crash.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { BlockHeader, HEADER_SIZE } from '../primitives/block.js';
import { BufferReader, BufferWriter, DecodeError, reverseHex } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import {
  ChainCorruptionError,
  type BlockUndo,
  type ChainStore,
  type CoinsMarkers,
  type IndexRecord,
  type StoreBatch,
  type StoredCoin,
} from '../chain/ports.js';
import { checkDiskSpace, DiskFullError, isDiskFull, MIN_DISK_SPACE } from './disk-space.js';

export const SCHEMA_VERSION = 1;

const P_BLOCK = 0x62; // 'b' + hash: raw block
const P_INDEX = 0x69; // 'i' + hash: IndexRecord
const P_UNDO = 0x75; // 'u' + hash: BlockUndo
const P_COIN = 0x63; // 'c' + txid + index (u32 BE, so an iteration is in outpoint order)
const P_META = 0x6d; // 'm' + name

const META_VERSION = metaKey('version');
const META_BEST = metaKey('best');
const META_HEADS = metaKey('heads');

function metaKey(name: string): Uint8Array {
  return Uint8Array.from([P_META, ...Buffer.from(name, 'ascii')]);
}

function hashKey(prefix: number, hash: Uint8Array): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = prefix;
  k.set(hash, 1);
  return k;
}

export function coinKey(op: OutPoint): Uint8Array {
  const k = new Uint8Array(37);
  k[0] = P_COIN;
  k.set(op.hash, 1);
  new DataView(k.buffer).setUint32(33, op.index, false);
  return k;
}

function coinKeyToOutPoint(k: Uint8Array): OutPoint {
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
  const header = BlockHeader.read(r);
  const height = r.u32('index.height');
  let chainWork = 0n;
  for (const b of r.bytes(32, 'index.chainWork')) chainWork = (chainWork << 8n) | BigInt(b);
  const status = r.u32('index.status');
  const sequence = r.u32('index.sequence');
  r.end('index');
  return { header, height, chainWork, status, sequence };
}

export function encodeUndo(undo: BlockUndo): Uint8Array {
  const w = new BufferWriter(64);
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

function decodeOrCorrupt<T>(what: string, v: Uint8Array, fn: (v: Uint8Array) => T): T {
  try {
    return fn(v);
  } catch (e) {
    if (e instanceof DecodeError) throw new ChainCorruptionError(`database corrupted: ${what}: ${e.message}`);
    throw e;
  }
}

type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

class LevelBatch implements StoreBatch {
  private readonly ops: Op[] = [];
  bytes = 0;
  constructor(
    private readonly store: LevelChainStore,
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private readonly sync: () => boolean,
  ) {}
  get length(): number {
    return this.ops.length;
  }
  private put(key: Uint8Array, value: Uint8Array): this {
    this.ops.push({ type: 'put', key, value });
    this.bytes += key.length + value.length;
    return this;
  }
  private del(key: Uint8Array): this {
    this.ops.push({ type: 'del', key });
    this.bytes += key.length;
    return this;
  }
  putBlock(hash: Uint8Array, raw: Uint8Array): this {
    return this.put(hashKey(P_BLOCK, hash), raw);
  }
  putIndex(hash: Uint8Array, rec: IndexRecord): this {
    return this.put(hashKey(P_INDEX, hash), encodeIndex(rec));
  }
  putUndo(hash: Uint8Array, undo: BlockUndo): this {
    return this.put(hashKey(P_UNDO, hash), encodeUndo(undo));
  }
  putCoin(op: OutPoint, coin: StoredCoin): this {
    return this.put(coinKey(op), encodeCoin(coin));
  }
  delCoin(op: OutPoint): this {
    return this.del(coinKey(op));
  }
  setBest(hash: Uint8Array | null): this {
    return hash ? this.put(META_BEST, hash.slice()) : this.del(META_BEST);
  }
  setHeadBlocks(heads: [Uint8Array, Uint8Array | null] | null): this {
    if (!heads) return this.del(META_HEADS);
    const v = new Uint8Array(heads[1] ? 64 : 32);
    v.set(heads[0]);
    if (heads[1]) v.set(heads[1], 32);
    return this.put(META_HEADS, v);
  }
  async write(): Promise<void> {
    if (this.ops.length === 0) return;
    // Batches that move a marker are the ones whose loss on power failure would matter.
    await this.store.guardWrite(this.bytes, () => this.db.batch(this.ops, { sync: this.sync() }));
  }
}

export interface LevelStoreOptions {
  /** LevelDB block cache in bytes (default 8 MiB). */
  cacheSize?: number;
  /** fsync each batch (default false: a killed process loses nothing, a power cut may). */
  sync?: boolean;
  /** Bytes kept free on the database's disk (default Core's 50 MiB; 0: only ENOSPC stops writes). */
  minFreeBytes?: number;
  /** Told once when the disk is full; every later write is refused with the same error. */
  onDiskFull?: (e: DiskFullError) => void;
}

/**
 * The chain database could not be opened: one line naming the path, what failed and what to do.
 * A database is created only in a new (missing or empty) folder: one whose CURRENT or MANIFEST
 * is gone is refused rather than replaced, since LevelDB would delete the old tables it no longer
 * lists (the chain lost for good).
 */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      `cannot open the chain database at ${path}: ${reason}. Nothing was changed; restore that folder ` +
        `from a backup, or move it away and start again to download the chain from peers.`,
    );
  }
}

/** LevelDB's own words for a failed open ("IO error: …/MANIFEST-000002: No such file or directory"). */
function openFailure(e: unknown): string {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

export class LevelChainStore implements ChainStore {
  /** Set by the first write the disk could not take; every later write fails with it. */
  private diskFull: DiskFullError | null = null;

  private constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private readonly dir: string,
    private readonly opts: LevelStoreOptions,
  ) {}

  /** Opens the database at `dir`, creating it only in a new folder; refuses a schema version it
   * does not know, and a damaged database (DatabaseOpenError), which it never replaces. */
  static async open(dir: string, opts: LevelStoreOptions = {}): Promise<LevelChainStore> {
    const fresh = !existsSync(dir) || readdirSync(dir).length === 0;
    if (!fresh && !existsSync(join(dir, 'CURRENT')))
      throw new DatabaseOpenError(dir, 'its CURRENT file is missing (the folder is not empty)');
    if (fresh) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      cacheSize: opts.cacheSize ?? 8 << 20,
      createIfMissing: fresh,
    });
    try {
      await db.open();
    } catch (e) {
      // Another process holding the database is not damage: its own message says so.
      if ((e as { code?: string }).code === 'LEVEL_LOCKED') throw e;
      throw new DatabaseOpenError(dir, openFailure(e));
    }
    const store = new LevelChainStore(db, dir, opts);
    const v = await db.get(META_VERSION);
    if (v === undefined) {
      await store.guardWrite(1, () => db.put(META_VERSION, Uint8Array.of(SCHEMA_VERSION)));
    } else if (v.length !== 1 || v[0] !== SCHEMA_VERSION) {
      await db.close();
      throw new ChainCorruptionError(
        `chain database at ${dir} has schema version ${v.length === 1 ? v[0] : '(unreadable)'}, this build reads ${SCHEMA_VERSION}`,
      );
    }
    return store;
  }

  async getBlock(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(hashKey(P_BLOCK, hash));
  }

  async getUndo(hash: Uint8Array): Promise<BlockUndo | undefined> {
    const v = await this.db.get(hashKey(P_UNDO, hash));
    return v === undefined ? undefined : decodeOrCorrupt(`undo of ${reverseHex(hash)}`, v, decodeUndo);
  }

  async getCoins(outpoints: readonly OutPoint[]): Promise<(StoredCoin | undefined)[]> {
    if (outpoints.length === 0) return [];
    const vals = await this.db.getMany(outpoints.map(coinKey));
    return vals.map((v, i) =>
      v === undefined
        ? undefined
        : decodeOrCorrupt(`coin ${outpoints[i].txidHex()}:${outpoints[i].index}`, v, decodeCoin),
    );
  }

  async *iterateCoins(): AsyncIterable<[OutPoint, StoredCoin]> {
    const it = this.db.iterator({ gte: Uint8Array.of(P_COIN), lt: Uint8Array.of(P_COIN + 1) });
    try {
      for await (const [k, v] of it) {
        if (k.length !== 37)
          throw new ChainCorruptionError(`database corrupted: coin key of ${k.length} bytes`);
        const op = coinKeyToOutPoint(k);
        yield [op, decodeOrCorrupt(`coin ${op.txidHex()}:${op.index}`, v, decodeCoin)];
      }
    } finally {
      await it.close();
    }
  }

  async loadIndex(): Promise<IndexRecord[]> {
    const out: IndexRecord[] = [];
    for await (const [k, v] of this.db.iterator({
      gte: Uint8Array.of(P_INDEX),
      lt: Uint8Array.of(P_INDEX + 1),
    })) {
      out.push(decodeOrCorrupt(`index entry ${reverseHex(k.subarray(1))}`, v, decodeIndex));
    }
    return out;
  }

  async getMarkers(): Promise<CoinsMarkers> {
    const [best, heads] = await this.db.getMany([META_BEST, META_HEADS]);
    if (best !== undefined && best.length !== 32)
      throw new ChainCorruptionError('database corrupted: best-block marker');
    if (heads !== undefined && heads.length !== 32 && heads.length !== 64)
      throw new ChainCorruptionError('database corrupted: head-blocks marker');
    return {
      best: best ? new Uint8Array(best) : null,
      headBlocks: heads
        ? [
            new Uint8Array(heads.subarray(0, 32)),
            heads.length === 64 ? new Uint8Array(heads.subarray(32)) : null,
          ]
        : null,
    };
  }

  batch(): StoreBatch {
    return new LevelBatch(this, this.db, () => this.opts.sync ?? false);
  }

  /**
   * Runs a write of about `bytes` bytes unless the disk is full: checked against the margin
   * before (Core's CheckDiskSpace in FlushStateToDisk), and ENOSPC from LevelDB after.
   */
  async guardWrite(bytes: number, write: () => Promise<void>): Promise<void> {
    if (this.diskFull) throw this.diskFull;
    try {
      const margin = this.opts.minFreeBytes ?? MIN_DISK_SPACE;
      if (margin > 0) checkDiskSpace(this.dir, bytes, margin);
      await write();
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      if (!this.diskFull) {
        this.diskFull = e instanceof DiskFullError ? e : new DiskFullError(this.dir, 'a write failed');
        this.opts.onDiskFull?.(this.diskFull);
      }
      throw this.diskFull;
    }
  }

  async wipeCoins(): Promise<void> {
    await this.guardWrite(0, async () => {
      await this.db.clear({ gte: Uint8Array.of(P_COIN), lt: Uint8Array.of(P_COIN + 1) });
      await this.db.batch([
        { type: 'del', key: META_BEST },
        { type: 'del', key: META_HEADS },
      ]);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** Raw access for tests and tools that must damage or inspect the database on purpose. */
  get raw(): ClassicLevel<Uint8Array, Uint8Array> {
    return this.db;
  }
}

export const keys = {
  block: (h: Uint8Array) => hashKey(P_BLOCK, h),
  undo: (h: Uint8Array) => hashKey(P_UNDO, h),
  coin: coinKey,
};

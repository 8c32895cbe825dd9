// storage/: the implementation of chain/ports.ts on disk, laid out as Bitcoin Core's:
//   chainstate/     LevelDB: the UTXO set and its markers (best block, head blocks), schema version
//   blocks/index/   LevelDB: the block index, each entry with the file positions of its block and
//                   undo data, and the reindex flag
//   blocks/blk?????.dat, rev?????.dat: the blocks and undo data themselves (block-files.ts)
// so a damaged chain state is rebuilt from the blocks (--reindex-chainstate) and a lost index from
// the block files (--reindex). Owns: key layout (one-byte prefixes), value encodings
// (BufferWriter), schema versions, and turning a chain batch into its writes in a crash-safe
// order: block and undo bytes appended first, then the index batch, then the chain state batch
// (a crash between them leaves an index ahead of the chain state, which start-up accepts: the
// chain state names the block it is at). Durability follows Core's FlushStateToDisk, not each
// block: a batch that moves the coins' markers (a flush) first fsyncs every block and undo file
// written since the last flush, then writes its index and chain state batches with sync, so the
// coins tip never names bytes a power cut can take. Between flushes nothing is fsynced (a killed
// process loses nothing; the OS holds the bytes); an index entry whose bytes a power cut took
// anyway (its file now ends before them) loses its HAVE_DATA at open and the block is fetched
// again, as one the node never had. Does not own: what the records mean (chain/).
// How it fails: a value that does not decode, or a schema version it does not know, raises
// ChainCorruptionError naming the record; LevelDB errors (locked directory, I/O) pass through.
// A full disk (a write that would leave less than Core's 50 MiB margin, or one that fails with
// ENOSPC) raises DiskFullError, tells onDiskFull once, and refuses every later write, as LevelDB
// itself does after an I/O error: what is on disk stays at the last whole batch, as after a crash.
// A data directory in the layout before blocks/ (everything in chainstate/, schema 1) is migrated
// once at open (migrate.ts).
import { ClassicLevel } from 'classic-level';
import { Block, HEADER_SIZE } from '../primitives/block.js';
import { reverseHex } from '../primitives/bytes.js';
import type { OutPoint } from '../primitives/tx.js';
import {
  BlockStatus,
  ChainCorruptionError,
  type BlockUndo,
  type ChainStore,
  type CoinsMarkers,
  type IndexRecord,
  type StoreBatch,
  type StoredAt,
  type StoredCoin,
} from '../chain/ports.js';
import { checkDiskSpace, DiskFullError, isDiskFull, MIN_DISK_SPACE } from './disk-space.js';
import { type Append, BlockFiles, hasBlockFiles } from './block-files.js';
import { dropLegacy, migrateLegacy } from './migrate.js';
import { chainPaths, DatabaseOpenError, isFresh, openLevel, readVersion } from './open.js';
import {
  type BlockLocation,
  INDEX_VERSION,
  META_BEST,
  META_HEADS,
  META_REINDEX,
  META_VERSION,
  P_COIN,
  P_INDEX,
  SCHEMA_VERSION,
  coinKey,
  coinKeyToOutPoint,
  coinKeys,
  decodeCoin,
  decodeIndexEntry,
  decodeOrCorrupt,
  decodeUndo,
  encodeCoin,
  encodeIndexEntry,
  encodeUndo,
  hashKey,
  range,
} from './records.js';

export * from './records.js';
export { chainPaths, DatabaseOpenError, openLevel } from './open.js';

type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

class LevelBatch implements StoreBatch {
  /** Chain state writes (coins and markers). */
  private readonly ops: Op[] = [];
  /** Index entries, encoded at write time with the positions the appends give them. */
  private readonly index = new Map<string, [Uint8Array, IndexRecord | null]>();
  private readonly appends: { hash: Uint8Array; raw?: Uint8Array; undo?: Uint8Array; at?: StoredAt }[] = [];
  /** Moves the coins' best or head blocks: a flush, which makes the blocks it reaches referenced. */
  private markers = false;
  bytes = 0;
  constructor(private readonly store: LevelChainStore) {}
  get length(): number {
    return this.ops.length + this.index.size + this.appends.length;
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
    this.appends.push({ hash, raw });
    this.bytes += raw.length;
    return this;
  }
  linkBlock(hash: Uint8Array, at: StoredAt): this {
    this.appends.push({ hash, at });
    return this;
  }
  putIndex(hash: Uint8Array, rec: IndexRecord): this {
    this.index.set(hashHex(hash), [hash, rec]);
    this.bytes += HEADER_SIZE + 60;
    return this;
  }
  putUndo(hash: Uint8Array, undo: BlockUndo): this {
    const data = encodeUndo(undo);
    this.appends.push({ hash, undo: data });
    this.bytes += data.length;
    // The entry must be rewritten with the undo position even if the caller does not put it.
    if (!this.index.has(hashHex(hash))) this.index.set(hashHex(hash), [hash, null]);
    return this;
  }
  putCoin(op: OutPoint, coin: StoredCoin): this {
    return this.put(coinKey(op), encodeCoin(coin));
  }
  delCoin(op: OutPoint): this {
    return this.del(coinKey(op));
  }
  setBest(hash: Uint8Array | null): this {
    this.markers = true;
    return hash ? this.put(META_BEST, hash.slice()) : this.del(META_BEST);
  }
  setHeadBlocks(heads: [Uint8Array, Uint8Array | null] | null): this {
    this.markers = true;
    if (!heads) return this.del(META_HEADS);
    const v = new Uint8Array(heads[1] ? 64 : 32);
    v.set(heads[0]);
    if (heads[1]) v.set(heads[1], 32);
    return this.put(META_HEADS, v);
  }
  async write(): Promise<void> {
    if (this.length === 0) return;
    await this.store.guardWrite(this.bytes, () =>
      this.store.writeParts(this.appends, this.index, this.ops, this.markers),
    );
  }
}

/** True when the database holds no record at all. */
async function isEmpty(db: ClassicLevel<Uint8Array, Uint8Array>): Promise<boolean> {
  return (await db.keys({ limit: 1 }).all()).length === 0;
}

function hashHex(h: Uint8Array): string {
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex');
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
  /** The network's magic, the first bytes of every record of the block files. */
  magic?: Uint8Array;
  /** Largest blk file in bytes (default Core's 128 MiB). */
  maxBlockFileSize?: number;
  /**
   * What the caller rebuilds at this start: 'chainstate' (--reindex-chainstate) accepts a missing
   * chain state; 'index' (--reindex) wipes the block index and chain state and rebuilds both
   * from the block files; 'discard' also deletes the block files (--reindex of a pruned node).
   */
  rebuild?: 'none' | 'chainstate' | 'index' | 'discard';
  /** Told what the open did beyond opening (a migration, a rebuild starting over). */
  onNote?: (msg: string) => void;
}

/** Magic of block files written without a network's (tests). */
export const DEFAULT_MAGIC = Uint8Array.from([0x54, 0x4c, 0x59, 0x00]);

export class LevelChainStore implements ChainStore {
  /** Set by the first write the disk could not take; every later write fails with it. */
  private diskFull: DiskFullError | null = null;
  /** Where each stored block is, by hash (hex of the internal bytes). */
  private readonly located = new Map<string, BlockLocation & { height: number }>();
  /** Highest block height in each blk file. */
  private readonly fileTop = new Map<number, number>();
  /** Index records read at open, handed over once by loadIndex. */
  private loaded: IndexRecord[] | null = null;
  private reindexFlag = false;

  private constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private readonly indexDb: ClassicLevel<Uint8Array, Uint8Array>,
    readonly files: BlockFiles,
    private readonly dir: string,
    private readonly opts: LevelStoreOptions,
  ) {}

  /**
   * Opens the chain state, block index and block files under `root` (chainstate/ and blocks/),
   * creating them only in new folders; migrates the layout before blocks/ once; refuses a schema
   * version it does not know, a damaged database (DatabaseOpenError), and a missing chain state or
   * index with the option that rebuilds it (unless opts.rebuild asks for that rebuild).
   */
  static async open(root: string, opts: LevelStoreOptions = {}): Promise<LevelChainStore> {
    const paths = chainPaths(root);
    const rebuild = opts.rebuild ?? 'none';
    const cacheSize = opts.cacheSize ?? 8 << 20;
    const stateFresh = isFresh(paths.chainstate);
    const indexFresh = isFresh(paths.index);
    const haveFiles = hasBlockFiles(paths.blocks);
    // Checked before anything is opened: opening would create what is missing.
    if (rebuild === 'none' && stateFresh && !indexFresh)
      throw new DatabaseOpenError(
        paths.chainstate,
        'the chain state is missing while the block index remains',
        'restart with --reindex-chainstate to rebuild it from the stored blocks',
      );
    const db = await openLevel(paths.chainstate, cacheSize);
    let indexDb: ClassicLevel<Uint8Array, Uint8Array> | undefined;
    try {
      const version = await readVersion(db, paths.chainstate);
      if (version !== null && version !== 1 && version !== SCHEMA_VERSION)
        throw new ChainCorruptionError(
          `chain database at ${paths.chainstate} has schema version ${version}, this build reads ${SCHEMA_VERSION}`,
        );
      const legacy = version === 1;
      // A first start killed after creating the chain state and before the index leaves an empty
      // chain state (nothing is written to it before the index exists) and no block files: a new
      // data directory still, not a lost index.
      const unused = stateFresh || (!haveFiles && version === null && (await isEmpty(db)));
      if (rebuild === 'none' && !legacy && indexFresh && (haveFiles || !unused))
        throw new DatabaseOpenError(
          paths.index,
          haveFiles ? 'the block index is missing while block files remain' : 'the block index is missing',
          'restart with --reindex to rebuild the block index and chain state from the block files',
        );
      indexDb = await openLevel(paths.index, cacheSize);
      const files = BlockFiles.open(paths.blocks, {
        magic: opts.magic ?? DEFAULT_MAGIC,
        maxFileSize: opts.maxBlockFileSize,
      });
      const store = new LevelChainStore(db, indexDb, files, paths.chainstate, opts);
      if (legacy) await migrateLegacy(db, indexDb, files, opts.onNote);
      else if (version === null)
        await store.guardWrite(1, () => db.put(META_VERSION, Uint8Array.of(SCHEMA_VERSION)));
      else await dropLegacy(db);
      await store.openIndex(rebuild);
      return store;
    } catch (e) {
      await indexDb?.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw e;
    }
  }

  private async openIndex(rebuild: LevelStoreOptions['rebuild']): Promise<void> {
    const idx = this.indexDb;
    const version = await readVersion(idx, 'blocks/index');
    if (version !== null && version !== INDEX_VERSION)
      throw new ChainCorruptionError(
        `block index has schema version ${version}, this build reads ${INDEX_VERSION}`,
      );
    if (version === null) await this.guardWrite(1, () => idx.put(META_VERSION, Uint8Array.of(INDEX_VERSION)));
    const interrupted = (await idx.get(META_REINDEX)) !== undefined;
    if (rebuild === 'index' || rebuild === 'discard' || interrupted) {
      if (interrupted && rebuild !== 'index') this.opts.onNote?.('an interrupted reindex starts over');
      await this.guardWrite(0, async () => {
        // The flag first: a reindex interrupted anywhere after this line starts over.
        await idx.put(META_REINDEX, Uint8Array.of(1), { sync: true });
        await idx.clear(range(P_INDEX));
        if (rebuild === 'discard') await this.files.removeAll();
      });
      await this.wipeCoins();
      this.reindexFlag = true;
      this.loaded = [];
      return;
    }
    const out: IndexRecord[] = [];
    const fixes: Op[] = [];
    for await (const [k, v] of idx.iterator(range(P_INDEX))) {
      const { rec, loc } = decodeOrCorrupt(`index entry ${reverseHex(k.subarray(1))}`, v, decodeIndexEntry);
      out.push(rec);
      if (loc && loc.data >= 0 && !this.files.holds('blk', { file: loc.file, pos: loc.data })) {
        // Appended after the last flush and lost with the power: never connected into the coins
        // on disk (a flush fsyncs first), so the block is one to download again.
        rec.status &= ~(BlockStatus.HAVE_DATA | BlockStatus.VALID_SCRIPTS);
        fixes.push({ type: 'put', key: k, value: encodeIndexEntry(rec, undefined) });
        continue;
      }
      if (loc && loc.undo >= 0 && !this.files.holds('rev', { file: loc.file, pos: loc.undo })) {
        loc.undo = -1;
        rec.status &= ~BlockStatus.VALID_SCRIPTS;
        fixes.push({ type: 'put', key: k, value: encodeIndexEntry(rec, loc) });
      }
      if (loc) this.locate(k.subarray(1), loc, rec.height);
    }
    if (fixes.length > 0) {
      // Recorded at once: later appends will fill the files past those positions again.
      await this.guardWrite(0, () => idx.batch(fixes, { sync: true }));
      this.opts.onNote?.(
        `${fixes.length} blocks or undo records written after the last flush were lost (power cut?); they are fetched or rebuilt again`,
      );
    }
    this.loaded = out;
  }

  private locate(hash: Uint8Array, loc: BlockLocation, height: number): void {
    this.located.set(hashHex(hash), { ...loc, height });
    if ((this.fileTop.get(loc.file) ?? -1) < height) this.fileTop.set(loc.file, height);
  }

  get reindexing(): boolean {
    return this.reindexFlag;
  }

  async finishReindex(): Promise<void> {
    await this.guardWrite(0, () => this.indexDb.del(META_REINDEX, { sync: true }));
    this.reindexFlag = false;
  }

  scanBlocks(): AsyncIterable<[StoredAt, Uint8Array]> {
    // Only records that decode as a whole block count (each is decoded again when accepted).
    return this.files.scan((data) => {
      try {
        Block.decode(data);
        return true;
      } catch {
        return false;
      }
    });
  }

  readBlockAt(at: StoredAt): Promise<Uint8Array> {
    return this.files.readBlock(at);
  }

  /** The three writes of a batch, in their crash-safe order (see the file header). */
  async writeParts(
    appends: readonly { hash: Uint8Array; raw?: Uint8Array; undo?: Uint8Array; at?: StoredAt }[],
    index: ReadonlyMap<string, [Uint8Array, IndexRecord | null]>,
    ops: readonly Op[],
    flush = false,
  ): Promise<void> {
    const list: Append[] = [];
    for (const a of appends) {
      const k = hashHex(a.hash);
      if (a.at) {
        const at = a.at;
        this.located.set(k, {
          file: at.file,
          data: at.pos,
          undo: -1,
          height: this.located.get(k)?.height ?? 0,
        });
      } else if (a.raw) {
        list.push({
          kind: 'blk',
          data: a.raw,
          done: (p) => this.located.set(k, { file: p.file, data: p.pos, undo: -1, height: 0 }),
        });
      } else if (a.undo) {
        const loc = this.located.get(k);
        if (!loc)
          throw new ChainCorruptionError(`undo data for block ${reverseHex(a.hash)}, which is not stored`);
        list.push({
          kind: 'rev',
          file: loc.file,
          data: a.undo,
          hash: a.hash,
          done: (p) => (loc.undo = p.pos),
        });
      }
    }
    await this.files.append(list);
    // Core's FlushStateToDisk: block files first, then the index and the coins, each synced.
    const sync = flush || (this.opts.sync ?? false);
    if (sync) await this.files.sync();
    if (index.size > 0) {
      const puts: Op[] = [];
      for (const [k, [hash, rec]] of index) {
        const loc = this.located.get(k);
        let r = rec;
        if (!r) {
          // An undo position for an entry the batch did not put: rewrite the stored one.
          const v = await this.indexDb.get(hashKey(P_INDEX, hash));
          if (!v) throw new ChainCorruptionError(`index entry ${reverseHex(hash)} missing`);
          r = decodeOrCorrupt(`index entry ${reverseHex(hash)}`, v, decodeIndexEntry).rec;
        }
        if (loc) this.locate(hash, loc, r.height);
        puts.push({ type: 'put', key: hashKey(P_INDEX, hash), value: encodeIndexEntry(r, loc) });
      }
      await this.indexDb.batch(puts, { sync });
    }
    if (ops.length > 0) await this.db.batch(ops as Op[], { sync });
  }

  async getBlock(hash: Uint8Array): Promise<Uint8Array | undefined> {
    const loc = this.located.get(hashHex(hash));
    if (!loc || loc.data < 0) return undefined;
    return this.files.readBlock({ file: loc.file, pos: loc.data });
  }

  async getUndo(hash: Uint8Array): Promise<BlockUndo | undefined> {
    const loc = this.located.get(hashHex(hash));
    if (!loc || loc.undo < 0) return undefined;
    const v = await this.files.readUndo({ file: loc.file, pos: loc.undo }, hash);
    return decodeOrCorrupt(`undo of ${reverseHex(hash)}`, v, decodeUndo);
  }

  async getCoins(outpoints: readonly OutPoint[]): Promise<(StoredCoin | undefined)[]> {
    if (outpoints.length === 0) return [];
    const vals = await this.db.getMany(coinKeys(outpoints));
    return vals.map((v, i) =>
      v === undefined
        ? undefined
        : decodeOrCorrupt(`coin ${outpoints[i].txidHex()}:${outpoints[i].index}`, v, decodeCoin),
    );
  }

  async *iterateCoins(): AsyncIterable<[OutPoint, StoredCoin]> {
    const it = this.db.iterator(range(P_COIN));
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

  loadIndex(): Promise<IndexRecord[]> {
    const out = this.loaded ?? [];
    this.loaded = null;
    return Promise.resolve(out);
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
    return new LevelBatch(this);
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
      await this.db.clear(range(P_COIN));
      await this.db.batch([
        { type: 'del', key: META_BEST },
        { type: 'del', key: META_HEADS },
      ]);
    });
  }

  // ---- pruning ----

  blockFilesBytes(): number {
    return this.files.totalBytes();
  }

  prunableFiles(height: number): { file: number; bytes: number }[] {
    const current = this.files.currentFile;
    return this.files
      .blockFileNumbers()
      .filter((n) => n < current && (this.fileTop.get(n) ?? -1) <= height)
      .map((n) => ({ file: n, bytes: this.files.fileBytes(n) }));
  }

  forgetFiles(files: readonly number[]): Uint8Array[] {
    const set = new Set(files);
    const out: Uint8Array[] = [];
    for (const [k, loc] of this.located) {
      if (!set.has(loc.file)) continue;
      this.located.delete(k);
      out.push(Uint8Array.from(Buffer.from(k, 'hex')));
    }
    for (const n of files) this.fileTop.delete(n);
    return out;
  }

  async removeFiles(files: readonly number[]): Promise<void> {
    for (const n of files) await this.files.remove(n);
  }

  async close(): Promise<void> {
    try {
      await this.files.sync();
    } finally {
      await this.files.close();
      await this.indexDb.close();
      await this.db.close();
    }
  }

  /** Raw access to chainstate/ for tests and tools that must damage or inspect it on purpose. */
  get raw(): ClassicLevel<Uint8Array, Uint8Array> {
    return this.db;
  }

  /** Raw access to blocks/index/, as `raw`. */
  get rawIndex(): ClassicLevel<Uint8Array, Uint8Array> {
    return this.indexDb;
  }
}

export const keys = {
  index: (h: Uint8Array) => hashKey(P_INDEX, h),
  coin: coinKey,
};

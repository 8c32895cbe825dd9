// chain/: the block index, best-chain selection by total work, connecting and disconnecting
// blocks against the UTXO set (with a write-back coins cache), reorgs, orphans, and operator
// invalidation. It does not own the consensus rules (consensus/), script execution (script/ and
// the verify pool) or the encoding of anything on disk (storage/ implements this file).
// How it fails: a block that breaks a rule is rejected with a RejectError and the chain stays on
// its best valid tip; a damaged or inconsistent database raises ChainCorruptionError, which is
// fatal (the node must stop rather than carry on with a UTXO set it cannot trust).
//
// This file declares the storage the chain needs. The chain never sees keys or encodings: the
// store hands back typed records, reads coins in batches (one round trip per block, not one per
// input) and applies every write of a step as one atomic batch.
import type { BlockHeader } from '../primitives/block.js';
import type { OutPoint } from '../primitives/tx.js';

/** An unspent output and where it was created. */
export interface StoredCoin {
  value: bigint;
  script: Uint8Array;
  height: number;
  coinbase: boolean;
}

/** Header-index status bits (persisted). */
export const BlockStatus = {
  /** The header passed its context-free and contextual header checks. */
  VALID_HEADER: 1 << 0,
  /** The block body is stored. */
  HAVE_DATA: 1 << 1,
  /** The block was connected with full validation at least once. */
  VALID_SCRIPTS: 1 << 2,
  /** The block itself broke a rule (or an operator invalidated it). */
  FAILED: 1 << 3,
  /** An ancestor failed. */
  FAILED_CHILD: 1 << 4,
  /** The body was stored and connected, then pruned: it counts as chain data but is gone. */
  PRUNED: 1 << 5,
} as const;

/** Where a block record sits in the block files (found by a reindex scan). */
export interface StoredAt {
  file: number;
  pos: number;
}

export interface IndexRecord {
  header: BlockHeader;
  height: number;
  chainWork: bigint;
  status: number;
  /** Arrival order of the body; ties in chain work go to the block seen first. */
  sequence: number;
}

/** Coins spent by one block: per non-coinbase transaction, per input, in order. */
export type BlockUndo = StoredCoin[][];

/** Markers that say how far the on-disk UTXO set has got (Bitcoin Core's DB_BEST_BLOCK and
 * DB_HEAD_BLOCKS). */
export interface CoinsMarkers {
  /** The block the on-disk UTXO set is consistent with; null while a flush is in progress. */
  best: Uint8Array | null;
  /** Set by the first batch of a multi-batch flush: [target, previous best]. */
  headBlocks: [Uint8Array, Uint8Array | null] | null;
}

export interface StoreBatch {
  putBlock(hash: Uint8Array, raw: Uint8Array): this;
  /** Indexes a block already in the block files (reindex) instead of writing it again. */
  linkBlock(hash: Uint8Array, at: StoredAt): this;
  putIndex(hash: Uint8Array, rec: IndexRecord): this;
  putUndo(hash: Uint8Array, undo: BlockUndo): this;
  putCoin(outpoint: OutPoint, coin: StoredCoin): this;
  delCoin(outpoint: OutPoint): this;
  setBest(hash: Uint8Array | null): this;
  setHeadBlocks(heads: [Uint8Array, Uint8Array | null] | null): this;
  /** Number of operations queued. */
  readonly length: number;
  /** Approximate bytes queued. */
  readonly bytes: number;
  write(): Promise<void>;
}

export interface ChainStore {
  getBlock(hash: Uint8Array): Promise<Uint8Array | undefined>;
  getUndo(hash: Uint8Array): Promise<BlockUndo | undefined>;
  /** One batched read; undefined where the outpoint is not unspent. */
  getCoins(outpoints: readonly OutPoint[]): Promise<(StoredCoin | undefined)[]>;
  /** Every unspent output in key order (txid internal bytes, then index). */
  iterateCoins(): AsyncIterable<[OutPoint, StoredCoin]>;
  loadIndex(): Promise<IndexRecord[]>;
  getMarkers(): Promise<CoinsMarkers>;
  batch(): StoreBatch;
  /** Deletes every coin and both markers (reindex). */
  wipeCoins(): Promise<void>;
  /** True while the block index is rebuilt from the block files (--reindex, or one interrupted,
   * which starts over): loadIndex is then empty. */
  readonly reindexing: boolean;
  /** Every whole block record of the block files, in file order (reindex). */
  scanBlocks(): AsyncIterable<[StoredAt, Uint8Array]>;
  readBlockAt(at: StoredAt): Promise<Uint8Array>;
  /** The rebuilt index is whole: a later start need not rebuild it. */
  finishReindex(): Promise<void>;
  /** Bytes of every block and undo file (what a prune target bounds). */
  blockFilesBytes(): number;
  /** Block files (numbers, oldest first, with their bytes) holding no block above `height`,
   * never the one being written. */
  prunableFiles(height: number): { file: number; bytes: number }[];
  /** Forgets the blocks stored in `files` (reads of them answer undefined from now on) and returns
   * their hashes; the caller records that in the index, then calls removeFiles. */
  forgetFiles(files: readonly number[]): Uint8Array[];
  removeFiles(files: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

/** Raised when what the store holds cannot be what the chain wrote: missing undo or body for a
 * connected block, a value that does not decode, markers that point nowhere. Fatal. */
export class ChainCorruptionError extends Error {
  override readonly name = 'ChainCorruptionError';
}

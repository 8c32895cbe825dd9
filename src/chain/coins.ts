// The write-back coins cache over the store's UTXO set (Bitcoin Core's CCoinsViewCache, one level).
// Reads are batched: a block's inputs are fetched with one getMany before it is checked, after
// which every lookup is synchronous. Writes stay in memory until flush(), which moves the on-disk
// set from one block to another so that an interrupted flush is always recoverable:
// one batch when it fits; otherwise the first batch clears the best-block marker and records
// 'head blocks' [target, old best], and only the last batch sets the best block again (start-up
// sees the head-blocks marker and replays; see Chain.open).
import type { OutPoint } from '../primitives/tx.js';
import type { ChainStore, StoreBatch, StoredCoin } from './ports.js';

interface Entry {
  op: OutPoint;
  /** null: spent, the store's unspent version still to be deleted. */
  coin: StoredCoin | null;
  /** Differs from the store. */
  dirty: boolean;
  /** The store has no unspent version of this outpoint, so spending it needs no delete. */
  fresh: boolean;
}

/** Rough bytes held per entry (objects, key string, bigint) beside the script itself. */
const ENTRY_OVERHEAD = 220;

export interface FlushOptions {
  /** Largest batch in bytes before the flush is split (Bitcoin Core's -dbbatchsize). */
  maxBatchBytes: number;
}

export class CoinsCache {
  private readonly map = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly store: ChainStore) {}

  get size(): number {
    return this.map.size;
  }

  /** Approximate memory held, in bytes. */
  get memoryUsage(): number {
    return this.bytes;
  }

  /** Loads every outpoint not yet in the cache with one batched store read. */
  async fetch(outpoints: readonly OutPoint[]): Promise<void> {
    await this.load(outpoints, false);
  }

  /**
   * fetch() ahead of need, beside other work (the next block's coins while this one's scripts are
   * verified): what it read is kept only if no flush or clear came between the read and its
   * answer, since the store may no longer hold what it read; the later fetch() reads it again.
   * Answers the generation under which every outpoint was in the cache or absent from the store
   * once it ended, or null when what it read was dropped: while the generation stays that, no
   * fetch of the same outpoints is needed (the store changes only in a flush, and an entry leaves
   * the cache between flushes only when a coin the store never held is spent).
   */
  prefetch(outpoints: readonly OutPoint[]): Promise<number | null> {
    return this.load(outpoints, true);
  }

  /** Bumped by every flush and clear (before and after), so a read that straddles one is seen. */
  private gen = 0;

  /** Changes whenever a flush or clear empties the cache (what was read before may be gone). */
  get generation(): number {
    return this.gen;
  }

  private async load(outpoints: readonly OutPoint[], guarded: boolean): Promise<number | null> {
    const generation = this.gen;
    // An outpoint named twice (a double spend within a block) is read twice and kept once, so no
    // set of what was seen is built per read (a warm connect reads about 200 outpoints a block;
    // this loop and the one below were 7 % of a warm one-thread profile).
    const missing: OutPoint[] = [];
    for (const op of outpoints) if (!this.map.has(op.key())) missing.push(op);
    if (missing.length === 0) return generation;
    const coins = await this.store.getCoins(missing);
    if (guarded && generation !== this.gen) return null;
    for (let i = 0; i < missing.length; i++) {
      const coin = coins[i];
      // Nothing is kept for an outpoint the store does not hold (as Core's FetchCoin erases the
      // entry it tried): a block's new outputs, all read for BIP30, are added fresh a moment
      // later, and a kept absence would be one more entry to replace then.
      if (!coin) continue;
      const k = missing[i].key();
      // A block's own earlier step may have added it meanwhile; the cache wins.
      if (this.map.has(k)) continue;
      this.insert(k, { op: missing[i], coin, dirty: false, fresh: false });
    }
    return this.gen;
  }

  private insert(k: string, e: Entry): void {
    this.map.set(k, e);
    this.bytes += ENTRY_OVERHEAD + (e.coin ? e.coin.script.length : 0);
  }

  private remove(k: string, e: Entry): void {
    this.map.delete(k);
    this.bytes -= ENTRY_OVERHEAD + (e.coin ? e.coin.script.length : 0);
  }

  /** Synchronous lookup; the outpoint must have been fetched (or added) first: undefined is then
   * the store's answer too. */
  getCoin(op: OutPoint): StoredCoin | undefined {
    return this.map.get(op.key())?.coin ?? undefined;
  }

  /** Whether the cache holds the outpoint: unspent, or spent with the store's version still to delete. */
  has(op: OutPoint): boolean {
    return this.map.has(op.key());
  }

  /**
   * Adds an unspent output. `overwrite` is for restoring coins while disconnecting, where the
   * store may still hold the same coin; new outputs of a connected block cannot be on disk unspent
   * (BIP30), so they are FRESH unless a pending delete of the same outpoint is still unflushed.
   */
  add(op: OutPoint, coin: StoredCoin, overwrite = false): void {
    const k = op.key();
    const old = this.map.get(k);
    // A fresh entry stays fresh. Any other entry is not: a clean one is the store's unspent coin
    // (absences are not kept), and a dirty one may hide a stored version that a pending delete
    // has not removed yet.
    const fresh = old ? old.fresh : !overwrite;
    if (old) this.remove(k, old);
    this.insert(k, { op, coin, dirty: true, fresh });
  }

  /** Marks an outpoint spent and returns the coin it held (undefined if it was not unspent). */
  spend(op: OutPoint): StoredCoin | undefined {
    const k = op.key();
    const e = this.map.get(k);
    if (!e || !e.coin) return undefined;
    const coin = e.coin;
    this.remove(k, e);
    if (!e.fresh) this.insert(k, { op, coin: null, dirty: true, fresh: false });
    return coin;
  }

  /**
   * Writes every dirty entry and moves the best-block marker from `oldBest` to `newBest`.
   * `extra` is written in the first batch (undo data and index updates of the step that asked
   * for the flush), so a single-batch flush is one atomic write of the whole step.
   */
  async flush(
    newBest: Uint8Array,
    oldBest: Uint8Array | null,
    opts: FlushOptions,
    extra?: StoreBatch,
    onBatch?: (index: number, last: boolean) => void,
  ): Promise<void> {
    this.gen++;
    const batches: StoreBatch[] = [];
    let cur = extra ?? this.store.batch();
    for (const e of this.map.values()) {
      if (!e.dirty) continue;
      if (cur.bytes >= opts.maxBatchBytes) {
        batches.push(cur);
        cur = this.store.batch();
      }
      if (e.coin) cur.putCoin(e.op, e.coin);
      else cur.delCoin(e.op);
    }
    batches.push(cur);
    if (batches.length > 1) batches[0].setBest(null).setHeadBlocks([newBest, oldBest]);
    // The last batch always clears the head-blocks marker, as Core's BatchWrite erases
    // DB_HEAD_BLOCKS on every flush: a flush that fits one batch may be the one that finishes an
    // interrupted multi-batch flush (start-up replay), and a marker left behind would make a later
    // start replay that old step over a newer chain state.
    batches[batches.length - 1].setHeadBlocks(null).setBest(newBest);
    for (let i = 0; i < batches.length; i++) {
      onBatch?.(i, i === batches.length - 1);
      await batches[i].write();
    }
    this.map.clear();
    this.bytes = 0;
    this.gen++;
  }

  /** Marks an outpoint spent whatever the cache knows (replay, where changes may be half-applied). */
  erase(op: OutPoint): void {
    const k = op.key();
    const old = this.map.get(k);
    if (old) this.remove(k, old);
    this.insert(k, { op, coin: null, dirty: true, fresh: false });
  }

  /** Drops everything unflushed (used when the store is rebuilt underneath). */
  clear(): void {
    this.gen++;
    this.map.clear();
    this.bytes = 0;
  }
}

/**
 * The changes of one block on top of the cache, applied only when the whole block is valid
 * (Bitcoin Core validates into a child CCoinsViewCache for the same reason); optionally on top of
 * the layer of the block before it, walked but not yet applied (reads fall through that layer,
 * and through to the cache once it is applied).
 */
export class CoinsLayer {
  private readonly changes = new Map<string, { op: OutPoint; coin: StoredCoin | null }>();
  constructor(
    private readonly base: CoinsCache,
    private below: CoinsLayer | null = null,
  ) {}

  getCoin(op: OutPoint): StoredCoin | undefined {
    const c = this.changes.get(op.key());
    if (c) return c.coin ?? undefined;
    return this.below ? this.below.getCoin(op) : this.base.getCoin(op);
  }

  add(op: OutPoint, coin: StoredCoin): void {
    this.changes.set(op.key(), { op, coin });
  }

  spend(op: OutPoint): StoredCoin | undefined {
    const coin = this.getCoin(op);
    if (coin) this.changes.set(op.key(), { op, coin: null });
    return coin;
  }

  /**
   * Moves the changes into the cache (the layer below must have been applied first).
   * `restoring`: coins come back from undo data while disconnecting (may exist on disk).
   */
  apply(restoring: boolean): void {
    if (this.below?.changes.size) throw new Error('coins layer applied before the layer below it');
    for (const { op, coin } of this.changes.values()) {
      if (coin) this.base.add(op, coin, restoring);
      else this.base.spend(op);
    }
    this.changes.clear();
    // Reads fall through to the cache now; the layers below are no longer held.
    this.below = null;
  }
}

// The chain: the facade the node, RPC, P2P and miner use. It owns the block tree (tree.ts), moves
// the tip with activation.ts, starts up and recovers with startup.ts, and answers queries. See
// docs/chain.md. Every public operation that changes state runs one at a time (an internal
// queue), so callers may fire them concurrently.
import { EventEmitter } from 'node:events';
import type { Block, BlockHeader } from '../primitives/block.js';
import { reverseHex } from '../primitives/bytes.js';
import type { OutPoint } from '../primitives/tx.js';
import type { ChainParams } from '../consensus/params.js';
import { RejectError, consensusError } from '../consensus/errors.js';
import { ScriptVerifyPool, defaultVerifyWorkers } from './verify-pool.js';
import { type BlockEntry, medianTimePast } from './block-index.js';
import { CoinsCache } from './coins.js';
import { ScriptExecCache } from './script-cache.js';
import type { BlockUndo, ChainStore, StoredCoin } from './ports.js';
import { BlockTree } from './tree.js';
import { computeUtxoStats } from './coin-stats.js';
import { Activation } from './activation.js';
import { type StartupDeps, loadChain, verifyRecent } from './startup.js';
import { Pruner, pruneAfterHeight } from './prune.js';
import { DownloadPlanner } from './download.js';
import type {
  ChainEvents,
  ChainOptions,
  ChainTip,
  HeadersResult,
  ProcessResult,
  TipInfo,
  UtxoDigest,
  CoinsSnapshot,
} from './types.js';

export type {
  CoinsSnapshot,
  ChainEvents,
  ChainOptions,
  ChainTip,
  ConnectEvent,
  HeadersResult,
  ProcessResult,
  TipInfo,
  UtxoDigest,
} from './types.js';

/**
 * Blocks a processBlocks call takes beyond its run (its `supply`) before it ends and lets other
 * callers of the chain have their turn: Core's ActivateBestChainStep connects at most 32 blocks
 * before it lets go of cs_main.
 */
export const MAX_SUPPLIED_BLOCKS = 32;

export class Chain extends EventEmitter<ChainEvents> {
  readonly params: ChainParams;
  readonly scriptCache: ScriptExecCache;
  private readonly store: ChainStore;
  private readonly coins: CoinsCache;
  private readonly pool: ScriptVerifyPool;
  private readonly ownPool: boolean;
  private readonly tree: BlockTree;
  private readonly act: Activation;
  private readonly startup: StartupDeps;
  private readonly pruner: Pruner | null;
  private readonly downloads: DownloadPlanner;
  private queue: Promise<unknown> = Promise.resolve();
  /** Core's nBlockReverseSequenceId and nLastPreciousChainwork (preciousblock). */
  private reverseSequence = -1;
  private lastPreciousWork = 0n;
  private closed = false;

  private constructor(opts: ChainOptions) {
    super();
    this.store = opts.store;
    this.params = opts.params;
    const log = opts.logger;
    const now = opts.now ?? ((): number => Math.floor(Date.now() / 1000));
    const maxBatchBytes = opts.maxBatchBytes ?? 16 << 20;
    this.coins = new CoinsCache(this.store);
    this.scriptCache = new ScriptExecCache(opts.scriptCacheSize ?? 100_000);
    this.ownPool = !opts.verifyPool;
    this.pool =
      opts.verifyPool ??
      ScriptVerifyPool.create({
        threads: opts.verifyThreads ?? defaultVerifyWorkers(),
        sigCache: opts.sigCache,
      });
    this.tree = new BlockTree(this.params, now, opts.maxOrphans ?? 100, log);
    this.downloads = new DownloadPlanner(this.tree);
    this.act = new Activation({
      tree: this.tree,
      store: this.store,
      coins: this.coins,
      pool: this.pool,
      params: this.params,
      scriptCache: this.scriptCache,
      events: this,
      dbcacheBytes: (opts.dbcacheMB ?? 300) * 1024 * 1024,
      maxBatchBytes,
      log,
    });
    this.pruner =
      opts.pruneTargetBytes === undefined
        ? null
        : new Pruner(
            { tree: this.tree, store: this.store, activation: this.act, log },
            opts.pruneTargetBytes,
            opts.pruneAfterHeight ?? pruneAfterHeight(this.params.name),
          );
    this.startup = {
      tree: this.tree,
      store: this.store,
      coins: this.coins,
      params: this.params,
      activation: this.act,
      maxBatchBytes,
      log,
    };
  }

  static async open(opts: ChainOptions): Promise<Chain> {
    const chain = new Chain(opts);
    try {
      await loadChain(chain.startup, opts.reindex ?? false);
      await verifyRecent(chain.startup, opts.checkBlocks ?? 6);
      if (opts.activate !== false) await chain.act.activateBestChain();
    } catch (e) {
      // The chain owns the store from here: a failed open must not leave the directory locked.
      if (chain.ownPool) await chain.pool.close();
      await opts.store.close().catch(() => undefined);
      throw e;
    }
    return chain;
  }

  // ---- queries ----

  get tip(): BlockEntry {
    return this.tree.tip;
  }

  get height(): number {
    return this.tree.height;
  }

  get bestHeader(): BlockEntry {
    return this.tree.bestHeader;
  }

  getTipInfo(): TipInfo {
    const t = this.tip;
    return {
      hash: t.hash,
      hashHex: t.hashHex,
      height: t.height,
      chainWork: t.chainWork,
      time: t.time,
      bits: t.bits,
      medianTimePast: medianTimePast(t),
    };
  }

  getEntry(hash: Uint8Array | string): BlockEntry | undefined {
    return this.tree.getEntry(hash);
  }

  getHeader(hash: Uint8Array | string): BlockHeader | undefined {
    return this.getEntry(hash)?.header;
  }

  async getBlock(hash: Uint8Array | string): Promise<Block | undefined> {
    const e = this.getEntry(hash);
    if (!e || !e.hasData()) return undefined;
    return this.act.readBlock(e);
  }

  /** The stored serialisation of a block (serving peers without re-encoding), if its body is stored. */
  async getBlockBytes(hash: Uint8Array | string): Promise<Uint8Array | undefined> {
    const e = this.getEntry(hash);
    if (!e?.hasData()) return undefined;
    // The tip moves before the block files' write of its bytes ends (it runs beside the checks):
    // a peer that learned the new tip's header meanwhile is served from the block in hand.
    return this.act.arrived(e.hashHex)?.encode() ?? this.store.getBlock(e.hash);
  }

  /** The coins a stored block spent (its undo data), for the indexes. */
  async getUndo(hash: Uint8Array | string): Promise<BlockUndo | undefined> {
    const e = this.getEntry(hash);
    return e ? this.store.getUndo(e.hash) : undefined;
  }

  getBlockHashAtHeight(height: number): Uint8Array | undefined {
    return this.tree.atHeight(height)?.hash;
  }

  getEntryAtHeight(height: number): BlockEntry | undefined {
    return this.tree.atHeight(height);
  }

  isOnActiveChain(e: BlockEntry): boolean {
    return this.tree.isOnActiveChain(e);
  }

  /**
   * Blocks of the best header chain to fetch next, lowest first, at most `max` (download.ts):
   * p2p/sync.ts spreads them over peers.
   */
  blocksToDownload(max: number): { hash: Uint8Array; height: number }[] {
    return this.downloads.next(max);
  }

  /** Block locator from `from` (default the tip): the last 10 hashes, then exponentially sparser. */
  getLocator(from: BlockEntry = this.tip): Uint8Array[] {
    return this.tree.getLocator(from);
  }

  /** The last locator entry on the active chain (genesis if none). */
  findFork(locator: readonly Uint8Array[]): BlockEntry {
    return this.tree.findFork(locator);
  }

  async getCoin(op: OutPoint): Promise<StoredCoin | undefined> {
    return (await this.getCoins([op]))[0];
  }

  /** Unspent coins of the active chain, read in one batch. */
  async getCoins(ops: readonly OutPoint[]): Promise<(StoredCoin | undefined)[]> {
    return this.exclusive(async () => {
      await this.coins.fetch(ops);
      return ops.map((op) => this.coins.getCoin(op));
    });
  }

  medianTimePast(entry: BlockEntry = this.tip): number {
    return medianTimePast(entry);
  }

  /** Median time past of the active-chain block at `height` (BIP68 time locks). */
  medianTimePastAt(height: number): number {
    const e = this.tree.atHeight(height);
    if (!e) throw new RangeError(`no block at height ${height} on the active chain`);
    return medianTimePast(e);
  }

  /** Bits required for the block after `prev` (default the tip). */
  nextWorkRequired(prev: BlockEntry = this.tip): number {
    return this.tree.nextWorkRequired(prev);
  }

  getChainTips(): ChainTip[] {
    return this.tree.getChainTips();
  }

  get orphanCount(): number {
    return this.tree.orphanCount;
  }

  /** Coins-cache memory in bytes (for progress and the bench). */
  get cacheBytes(): number {
    return this.coins.memoryUsage;
  }

  // ---- headers and blocks ----

  /** Adds headers to the index (headers-first sync); each must extend a known header. */
  async processHeaders(headers: readonly BlockHeader[]): Promise<HeadersResult> {
    return this.exclusive(async () => {
      const batch = this.store.batch();
      let added = 0;
      let last: BlockEntry | undefined;
      let err: RejectError | undefined;
      for (const h of headers) {
        try {
          const r = this.tree.acceptHeader(h, batch);
          if (r.added) added++;
          last = r.entry;
        } catch (e) {
          if (!(e instanceof RejectError)) throw e;
          err = e;
          break;
        }
      }
      await batch.write();
      return { added, last, reason: err?.reason, error: err };
    });
  }

  /** Validates a block, stores it and moves the tip to the most-work valid chain. */
  async processBlock(block: Block): Promise<ProcessResult> {
    return (await this.processBlocks([block]))[0];
  }

  /**
   * processBlock for several blocks at once (a run a syncing node holds, parents first), connected
   * as one pipeline (activation.ts's connectPath): each block is accepted (checked and stored) as
   * the path reaches it, while the workers verify the block before it. `supply`: the blocks that
   * follow the run, asked for one at a time as the path reaches its end (a syncing node's next
   * held block in chain order, or null), at most MAX_SUPPLIED_BLOCKS, so that the path goes on
   * through them instead of ending with the run. One result per block, as processBlock's: the
   * run's, then those supplied, in order.
   */
  processBlocks(blocks: readonly Block[], supply?: () => Block | null): Promise<ProcessResult[]> {
    // A block is let go once accepted (the activation holds it until it is connected and told):
    // a call may run for MAX_SUPPLIED_BLOCKS blocks, and what lives that long is promoted out of
    // the young generation, at a cost (GC time trebled when the run was held for the call).
    const queue: (Block | null)[] = [...blocks];
    return this.exclusive(async () => {
      try {
        const results: ProcessResult[] = [];
        /** The hash of each result's block. */
        const order: Uint8Array[] = [];
        /** Accepted blocks that are new and have their parent. */
        const fresh: Uint8Array[] = [];
        const accept = async (block: Block): Promise<Block> => {
          const res = await this.act.acceptBlock(block);
          results.push(res);
          order.push(block.hash());
          if (res.accepted && !res.orphan && res.isNew) fresh.push(block.hash());
          return block;
        };
        let next = 0;
        const take = (): Block => {
          const block = queue[next]!;
          queue[next++] = null;
          return block;
        };
        let supplied = 0;
        const more = async (): Promise<Block | null> => {
          if (next < queue.length) return accept(take());
          const block = supplied < MAX_SUPPLIED_BLOCKS ? (supply?.() ?? null) : null;
          if (!block) return null;
          supplied++;
          return accept(block);
        };
        if (queue.length > 0) this.act.readAhead(queue[0]!);
        // The tip moves as soon as a block can move it; the path that moves it takes the next
        // blocks as it reaches its end. What it did not take (after a failure, or a block that
        // is not a child of its end) is accepted here, and the tip moves again.
        while (next < queue.length) {
          const had = fresh.length;
          await accept(take());
          if (fresh.length > had) await this.act.activateBestChain(false, more);
        }
        if (supplied > 0) await this.act.activateBestChain();
        if (fresh.length === 0) return results;
        for (const hash of fresh) await this.act.processOrphans(hash);
        await this.act.writePending();
        await this.pruner?.auto();
        return results.map((res, i) => {
          if (!res.accepted || res.orphan || !res.isNew) return res;
          const err = this.tree.failureOf(this.getEntry(order[i])!);
          return err ? { accepted: false, reason: err.reason, error: err, isNew: true } : res;
        });
      } finally {
        this.act.forgetArrivals();
      }
    });
  }

  /** Moves the tip to the most-work valid chain of stored blocks (after open with activate: false). */
  async activate(): Promise<void> {
    return this.exclusive(async () => {
      await this.act.activateBestChain();
      await this.pruner?.auto();
    });
  }

  // ---- pruning ----

  /** Prune mode: whether it is on and whether it prunes by itself (prune >= 550) or on request. */
  get pruneMode(): { automatic: boolean } | null {
    return this.pruner ? { automatic: this.pruner.automatic } : null;
  }

  /** Height of the last pruned block of the active chain (Core's GetPruneHeight), or null. */
  pruneHeight(): number | null {
    return this.pruner?.pruneHeight() ?? null;
  }

  /** Core's UpdatePruneLock: an index at `heightFirst` keeps the blocks it still needs (those above
   * heightFirst - PRUNE_LOCK_BUFFER - 1) from being pruned. Nothing to do when not pruning. */
  setPruneLock(name: string, heightFirst: number): void {
    this.pruner?.setLock(name, heightFirst);
  }

  /** An index that stopped (it failed) releases its prune lock: its blocks may go (Core). */
  removePruneLock(name: string): void {
    this.pruner?.removeLock(name);
  }

  /** pruneblockchain: deletes the block files whose blocks are all at or below `height` (never the
   * last 288 blocks); returns the new prune height. Throws when not in prune mode. */
  async pruneBlockchain(height: number): Promise<number | null> {
    return this.exclusive(async () => {
      if (!this.pruner) throw new Error('not in prune mode');
      await this.pruner.upTo(height);
      return this.pruner.pruneHeight();
    });
  }

  // ---- operator actions ----

  /** Marks a block and its descendants invalid and moves the tip off them (invalidateblock). */
  async invalidateBlock(hash: Uint8Array | string): Promise<void> {
    return this.exclusive(async () => {
      const e = this.entryOrThrow(hash);
      if (e.height === 0) throw new Error('the genesis block cannot be invalidated');
      while (this.isOnActiveChain(e)) await this.act.disconnectTip();
      const batch = this.store.batch();
      this.tree.markFailed(e, consensusError('invalidated', 'by operator', 0), batch);
      await batch.write();
      this.tree.rebuildCandidates();
      // Blocks that were on the old chain now have less work than before; any valid fork may win.
      this.tree.addStrongerCandidates();
      await this.act.activateBestChain();
      this.emit('tip', this.tip);
    });
  }

  /** Clears the invalid marks of a block, its ancestors and descendants (reconsiderblock). */
  async reconsiderBlock(hash: Uint8Array | string): Promise<void> {
    return this.exclusive(async () => {
      const e = this.entryOrThrow(hash);
      const batch = this.store.batch();
      this.tree.clearFailed(e, batch);
      await batch.write();
      this.tree.rebuildCandidates();
      this.tree.bestHeader = this.tree.computeBestHeader();
      await this.act.activateBestChain();
    });
  }

  /**
   * Core's PreciousBlock: the block is treated as if received before any other of equal work, so
   * among equal-work tips the chain moves to it (a later call on another one wins, until a new tip
   * arrives); one with less work than the tip changes nothing.
   */
  async preciousBlock(hash: Uint8Array | string): Promise<void> {
    return this.exclusive(async () => {
      const e = this.entryOrThrow(hash);
      const tip = this.tree.tip;
      if (e.chainWork < tip.chainWork) return;
      // A tip with more work than the last precious call's starts the order afresh.
      if (tip.chainWork > this.lastPreciousWork) this.reverseSequence = -1;
      this.lastPreciousWork = tip.chainWork;
      this.tree.candidates.delete(e);
      e.sequence = this.reverseSequence;
      if (this.reverseSequence > Number.MIN_SAFE_INTEGER) this.reverseSequence--;
      if (e.haveChainData && !e.isFailed()) this.tree.candidates.add(e);
      await this.act.activateBestChain(true);
    });
  }

  private entryOrThrow(hash: Uint8Array | string): BlockEntry {
    const e = this.getEntry(hash);
    if (!e) throw new Error(`block ${typeof hash === 'string' ? hash : reverseHex(hash)} not found`);
    return e;
  }

  // ---- the UTXO set ----

  /** Flushes the cache and hashes the whole UTXO set as Core's gettxoutsetinfo (hash_serialized_3). */
  async utxoDigest(): Promise<UtxoDigest> {
    const snap = await this.coinsSnapshot();
    const s = await computeUtxoStats(snap.coins, 'hash_serialized_3');
    return {
      height: snap.height,
      bestBlock: snap.bestBlock,
      count: s.txouts,
      totalAmount: s.totalAmount,
      hash: reverseHex(s.hash!),
    };
  }

  /**
   * Flushes the cache and opens a read of the whole UTXO set as it stands at the tip (Core's
   * coins cursor): the database iterator is opened, with its implicit snapshot, before the queue
   * lets the next block in, so blocks connected while the caller reads do not show. The caller
   * must read `coins` to its end or leave its loop (which closes the iterator).
   */
  async coinsSnapshot(): Promise<CoinsSnapshot> {
    return this.exclusive(async () => {
      await this.act.flush();
      const it = this.store.iterateCoins()[Symbol.asyncIterator]();
      let first: IteratorResult<[OutPoint, StoredCoin]> | null = await it.next();
      const coins: AsyncIterable<[OutPoint, StoredCoin]> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            const f = first;
            first = null;
            return f ? Promise.resolve(f) : it.next();
          },
          return: async () => {
            first = null;
            await it.return?.();
            return { done: true, value: undefined };
          },
        }),
      };
      return { height: this.tip.height, bestBlock: this.tip.hashHex, hash: this.tip.hash, coins };
    });
  }

  /** Writes the coins cache to disk now. */
  async flushState(): Promise<void> {
    return this.exclusive(() => this.act.flush());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.exclusive(async () => {
        this.closed = true;
        await this.act.flush();
      });
    } finally {
      // A flush the store refused (a full disk) still closes it: what it holds is whole.
      if (this.ownPool) await this.pool.close();
      await this.store.close();
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('chain is closed'));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

// Accepting block bodies and moving the tip: store a checked body, then connect and disconnect
// blocks against the coins cache until the tip is the most-work chain whose blocks all validate
// (Bitcoin Core's AcceptBlock and ActivateBestChain), with the coins flushes that follow.
import type { EventEmitter } from 'node:events';
import { Block } from '../primitives/block.js';
import { DecodeError, equalBytes, reverseHex } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import type { ChainParams } from '../consensus/params.js';
import { RejectError, consensusError } from '../consensus/errors.js';
import { checkBlock, checkBlockHeader, contextualCheckBlock } from '../consensus/block-check.js';
import { connectBlock, connectFetchList, scriptFailure } from '../consensus/connect.js';
import { isUnspendable } from '../script/script.js';
import type { ScriptVerifyPool } from './verify-pool.js';
import { type BlockEntry, findFork, medianTimePast } from './block-index.js';
import { type CoinsCache, CoinsLayer } from './coins.js';
import type { ScriptExecCache } from './script-cache.js';
import {
  BlockStatus,
  ChainCorruptionError,
  type BlockUndo,
  type ChainStore,
  type StoreBatch,
  type StoredAt,
} from './ports.js';
import type { BlockTree } from './tree.js';
import type { Logger } from '../primitives/logger.js';
import type { ChainEvents, ProcessResult } from './types.js';

/** What a path being connected has under way (connectPath). */
interface Pipeline {
  /** The last connected block's write, then its 'connect' event. */
  landed: Promise<void>;
  /** The next block's coins being read, and the list read (its fetch takes the same outpoints). */
  prefetch: { block: Block; list: OutPoint[]; read: Promise<void> } | null;
}

export interface ActivationDeps {
  tree: BlockTree;
  store: ChainStore;
  coins: CoinsCache;
  pool: ScriptVerifyPool;
  params: ChainParams;
  scriptCache: ScriptExecCache;
  events: EventEmitter<ChainEvents>;
  dbcacheBytes: number;
  maxBatchBytes: number;
  log?: Logger;
}

export class Activation {
  /** The block the coins on disk belong to. */
  diskBest: Uint8Array | null = null;
  private readonly tree: BlockTree;
  private readonly store: ChainStore;
  private readonly coins: CoinsCache;
  private readonly params: ChainParams;
  private readonly log?: Logger;

  constructor(private readonly d: ActivationDeps) {
    this.tree = d.tree;
    this.store = d.store;
    this.coins = d.coins;
    this.params = d.params;
    this.log = d.log;
  }

  // ---- stored data ----

  /**
   * Blocks accepted during the current processBlock, connected from memory rather than read back
   * and decoded again (a block is decoded once per arrival). Holds at most the block and the
   * orphans it frees (bounded by maxOrphans); emptied when processBlock returns.
   */
  private readonly arrivals = new Map<string, Block>();

  /**
   * The index entry of the block accepted last (and any new header's), not yet written: it goes
   * with the next batch this class writes, which for a block on the tip is its connection's, so a
   * block's entry is written once, not at acceptance and again at connection (Core writes dirty
   * entries at its periodic flush only). The block's bytes are in the block files by then; a crash
   * in between loses the entry alone, and the block is fetched again. processBlock writes what is
   * left before it returns.
   */
  private pending: StoreBatch | null = null;

  /** A batch to write: the pending one, with the index entries it holds, or a new one. */
  private batch(): StoreBatch {
    const b = this.pending ?? this.store.batch();
    this.pending = null;
    return b;
  }

  async writePending(): Promise<void> {
    const b = this.pending;
    this.pending = null;
    if (b) await this.write(b);
  }

  /**
   * The block files' write of the blocks accepted last, still under way: it runs beside the
   * block's coin reads and script checks, and every batch this class writes waits for it first
   * (the index entry and the undo data name its position). Rejections are held for that wait.
   */
  private storing: Promise<void> | null = null;

  /** Waits for the block files' write under way, if any. */
  private async stored(): Promise<void> {
    const s = this.storing;
    this.storing = null;
    if (s) await s;
  }

  private async write(b: StoreBatch): Promise<void> {
    await this.stored();
    await b.write();
  }

  /** Ends a processBlock: its arrivals and, after a failure that left them, the pending writes. */
  forgetArrivals(): void {
    this.arrivals.clear();
    this.pending = null;
    this.storing = null;
  }

  /** A block accepted by the processBlock under way (its bytes may still be being written). */
  arrived(hashHex: string): Block | undefined {
    return this.arrivals.get(hashHex);
  }

  async readBlock(e: BlockEntry): Promise<Block> {
    const arrived = this.arrivals.get(e.hashHex);
    if (arrived) return arrived;
    const raw = await this.store.getBlock(e.hash);
    if (!raw)
      throw new ChainCorruptionError(`database corrupted: block ${e.hashHex} (height ${e.height}) missing`);
    try {
      const b = Block.decode(raw);
      if (!equalBytes(b.hash(), e.hash)) throw new DecodeError('hash does not match the index', 'block');
      return b;
    } catch (err) {
      if (err instanceof DecodeError)
        throw new ChainCorruptionError(`database corrupted: block ${e.hashHex}: ${err.message}`);
      throw err;
    }
  }

  async readUndo(e: BlockEntry): Promise<BlockUndo> {
    const undo = await this.store.getUndo(e.hash);
    if (!undo)
      throw new ChainCorruptionError(
        `database corrupted: undo data of block ${e.hashHex} (height ${e.height}) missing`,
      );
    return undo;
  }

  // ---- accepting bodies ----

  private reject(e: RejectError, isNew: boolean): ProcessResult {
    return { accepted: false, reason: e.reason, error: e, isNew };
  }

  private matchesHeader(block: Block): boolean {
    const m = block.merkle();
    return !m.mutated && equalBytes(m.root, block.header.merkleRoot);
  }

  /**
   * Checks a block and stores it (Bitcoin Core's AcceptBlock); orphans are held, not stored.
   * `storedAt`: the block is already in the block files there (reindex), so it is only indexed.
   */
  async acceptBlock(block: Block, storedAt?: StoredAt): Promise<ProcessResult> {
    const tree = this.tree;
    const hash = block.hash();
    const known = tree.getEntry(hash);
    if (known?.isFailed())
      return this.reject(
        tree.failReasons.get(known) ?? consensusError('duplicate-invalid', known.hashHex, 0),
        false,
      );
    if (known?.hasData()) return { accepted: true, isNew: false };
    try {
      checkBlockHeader(block.header, this.params);
    } catch (e) {
      if (e instanceof RejectError) return this.reject(e, true);
      throw e;
    }
    const prev = tree.getEntry(block.header.prevHash);
    if (!prev) {
      tree.addOrphan(block);
      return { accepted: true, isNew: true, orphan: true };
    }
    if (prev.isFailed()) return this.reject(consensusError('bad-prevblk', prev.hashHex), true);
    const batch = this.batch();
    let entry = known;
    if (!entry) {
      try {
        entry = tree.acceptHeader(block.header, batch).entry;
      } catch (e) {
        if (e instanceof RejectError) return this.reject(e, true);
        throw e;
      }
    }
    const height = entry.height;
    try {
      checkBlock(block, this.params);
      contextualCheckBlock(block, { height, medianTimePast: medianTimePast(prev) }, this.params);
    } catch (e) {
      if (!(e instanceof RejectError)) throw e;
      // A body that does not match its header (wrong merkle root, CVE-2012-2459 duplicate) says
      // nothing about the header: the honest block with this hash must still be accepted.
      if (e.corruptionPossible || !this.matchesHeader(block)) {
        await this.write(batch);
        return this.reject(e, true);
      }
      tree.markFailed(entry, e, batch);
      await this.write(batch);
      return this.reject(e, true);
    }
    entry.status |= BlockStatus.HAVE_DATA;
    entry.sequence = tree.sequence++;
    // No coins are read here: a read beside the block's write would run outside the connect/flush
    // serialisation, and one that straddles a flush inserts what the store held before it (a spent
    // coin back as unspent, a stale "none" that makes a later add FRESH so its spend is never
    // written): the crash harness found one coin too many after its kills.
    if (storedAt) await this.write(batch.linkBlock(hash, storedAt).putIndex(hash, entry.record()));
    else {
      // The bytes now, without waiting (the block is read from `arrivals` meanwhile); the entry
      // with the next batch, after them.
      const stored = this.store.batch().putBlock(hash, block.encode()).write();
      stored.catch(() => undefined);
      const before = this.storing;
      this.storing = before ? Promise.all([before, stored]).then(() => undefined) : stored;
      this.pending = batch.putIndex(hash, entry.record());
    }
    this.arrivals.set(entry.hashHex, block);
    tree.receivedData(entry);
    return { accepted: true, isNew: true };
  }

  /** Accepts and activates the orphans that descend from `parent`, breadth first. */
  async processOrphans(parent: Uint8Array): Promise<void> {
    const queue = [reverseHex(parent)];
    while (queue.length > 0) {
      const p = queue.shift()!;
      for (const [k, b] of this.tree.takeOrphansOf(p)) {
        const r = await this.acceptBlock(b);
        if (r.accepted) {
          await this.activateBestChain();
          queue.push(k);
        }
      }
    }
  }

  // ---- moving the tip ----

  /**
   * Moves to the most-work chain whose blocks all validate (Bitcoin Core's ActivateBestChain).
   * With `equalWork` (preciousblock) an equal-work candidate received earlier than the tip (a
   * lower sequence) wins too.
   */
  async activateBestChain(equalWork = false): Promise<void> {
    const tree = this.tree;
    const startTip = tree.tip;
    for (;;) {
      const best = tree.pickCandidate();
      if (!best || best === tree.tip || best.chainWork < tree.tip.chainWork) break;
      if (!equalWork && best.chainWork === tree.tip.chainWork) break;
      const fork = findFork(tree.tip, best);
      while (tree.tip !== fork) await this.disconnectTip();
      const path: BlockEntry[] = [];
      for (let e: BlockEntry = best; e !== fork; e = e.prev!) path.push(e);
      path.reverse();
      await this.connectPath(path);
    }
    tree.pruneCandidates();
    if (tree.tip !== startTip) {
      // node/'s tip log says it for people (one line per block, or summaries while catching up).
      this.log?.debug({ height: tree.tip.height, hash: tree.tip.hashHex }, 'UpdateTip');
      this.d.events.emit('tip', tree.tip);
    }
  }

  /**
   * Connects `path` (blocks extending the tip, lowest first) as a pipeline: while a block's scripts
   * are verified the next block's coins are read (when it is in memory), and a block's undo data
   * and index entry are written while the next block is checked. Nothing is assumed of a block
   * before its own verdict: each is applied to the coins and made the tip only once it is valid and
   * the write of the one before it has landed, so the tip and the 'connect' events move one block
   * at a time, in order, each event after its block's write, as when each block was awaited. Stops
   * at the first block that fails; returns once every write and read it started has ended.
   */
  private async connectPath(path: readonly BlockEntry[]): Promise<void> {
    const pipe: Pipeline = { landed: Promise.resolve(), prefetch: null };
    let ended = false;
    try {
      for (let i = 0; i < path.length; i++) {
        const e = path[i];
        const block = await this.readBlock(e);
        const n = path[i + 1];
        const nextBlock = n && this.arrivals.get(n.hashHex);
        const ok = await this.connectTip(e, block, pipe, nextBlock && { block: nextBlock, height: n.height });
        if (!ok) break;
      }
      ended = true;
    } finally {
      // Whatever happened, nothing this path started runs past it.
      if (!ended) await Promise.allSettled([pipe.landed, pipe.prefetch?.read]);
    }
    await pipe.prefetch?.read;
    await pipe.landed;
  }

  /**
   * Connects `e` on top of the tip (see connectPath for `pipe`); false after a consensus failure,
   * which marks the block invalid.
   */
  private async connectTip(
    e: BlockEntry,
    block: Block,
    pipe: Pipeline,
    next?: { block: Block; height: number },
  ): Promise<boolean> {
    const started = performance.now();
    const layer = new CoinsLayer(this.coins);
    let undo: BlockUndo;
    try {
      undo = await this.connectBlock(e, block, layer, pipe, next);
    } catch (err) {
      if (!(err instanceof RejectError)) throw err;
      await pipe.landed;
      const batch = this.batch();
      this.tree.markFailed(e, err, batch);
      await this.write(batch);
      return false;
    }
    // The block before is the tip and its event told before this one changes anything.
    await pipe.landed;
    layer.apply(false);
    e.status |= BlockStatus.VALID_SCRIPTS;
    const batch = this.batch().putUndo(e.hash, undo).putIndex(e.hash, e.record());
    this.tree.pushActive(e);
    const told = (): void => {
      const seconds = (performance.now() - started) / 1000;
      this.d.events.emit('connect', { block, entry: e, height: e.height, seconds });
    };
    if (this.coins.memoryUsage > this.d.dbcacheBytes) {
      // A flush writes the cache and empties it: the next block's read must not straddle it.
      await pipe.prefetch?.read;
      await this.flush(batch);
      told();
      pipe.landed = Promise.resolve();
    } else {
      const w = this.write(batch).then(told);
      // Awaited by the next step or by connectPath; never left unhandled meanwhile.
      w.catch(() => undefined);
      pipe.landed = w;
    }
    return true;
  }

  async disconnectTip(): Promise<void> {
    const e = this.tree.tip;
    const [block, undo] = await Promise.all([this.readBlock(e), this.readUndo(e)]);
    await this.fetchOutputs(block);
    const layer = new CoinsLayer(this.coins);
    this.disconnectInto(layer, block, undo, e);
    layer.apply(true);
    this.tree.popActive();
    // The block is still valid: it may become the tip again if the new branch fails.
    this.tree.candidates.add(e);
    await this.writeStep(this.batch());
    this.d.events.emit('disconnect', { block, entry: e, height: e.height, seconds: 0 });
  }

  /** Reads the block's outputs into the cache (disconnecting spends them). */
  fetchOutputs(block: Block): Promise<void> {
    return this.coins.fetch(block.txs.flatMap((tx) => tx.outputs.map((_, i) => new OutPoint(tx.txid(), i))));
  }

  disconnectInto(layer: CoinsLayer, block: Block, undo: BlockUndo, e: BlockEntry): void {
    if (undo.length !== block.txs.length - 1)
      throw new ChainCorruptionError(
        `database corrupted: undo data of block ${e.hashHex} does not match the block`,
      );
    for (let t = block.txs.length - 1; t >= 0; t--) {
      const tx = block.txs[t];
      const txid = tx.txid();
      for (let i = 0; i < tx.outputs.length; i++) {
        if (isUnspendable(tx.outputs[i].scriptPubKey)) continue;
        if (!layer.spend(new OutPoint(txid, i)))
          throw new ChainCorruptionError(
            `database corrupted: output ${tx.txidHex()}:${i} of block ${e.hashHex} missing while disconnecting`,
          );
      }
      if (t === 0) continue;
      const coins = undo[t - 1];
      if (coins.length !== tx.inputs.length)
        throw new ChainCorruptionError(
          `database corrupted: undo data of block ${e.hashHex} does not match the block`,
        );
      for (let i = tx.inputs.length - 1; i >= 0; i--) layer.add(tx.inputs[i].prevout, coins[i]);
    }
  }

  /** Writes a step's batch; when the cache is over its budget, as part of a flush. */
  private async writeStep(batch: StoreBatch): Promise<void> {
    if (this.coins.memoryUsage > this.d.dbcacheBytes) await this.flush(batch);
    else await this.write(batch);
  }

  async flush(extra?: StoreBatch): Promise<void> {
    // The coins' best block must not be ahead of the blocks and entries it names.
    await this.stored();
    const t0 = Date.now();
    const entries = this.coins.size;
    const tip = this.tree.tip;
    await this.coins.flush(tip.hash, this.diskBest, { maxBatchBytes: this.d.maxBatchBytes }, extra);
    this.diskBest = tip.hash;
    this.log?.debug({ entries, ms: Date.now() - t0, height: tip.height }, 'coins flushed');
  }

  /** Full validation of a block against the UTXO set (consensus/connect.ts); returns its undo data. */
  private async connectBlock(
    e: BlockEntry,
    block: Block,
    view: CoinsLayer,
    pipe: Pipeline,
    next?: { block: Block; height: number },
  ): Promise<BlockUndo> {
    const height = e.height;
    const early = pipe.prefetch;
    pipe.prefetch = null;
    await early?.read;
    // What the read ahead did not keep (a flush came between) is read now.
    await this.coins.fetch(
      early?.block === block ? early.list : connectFetchList(block, height, this.params),
    );
    // Script checks go to the workers in slices as soon as they are ready, so the workers verify
    // while this thread is still walking the rest of the block; then this thread joins them.
    const checks = this.d.pool.begin();
    const { undo } = connectBlock(
      block,
      view,
      {
        height,
        prevMedianTimePast: medianTimePast(e.prev),
        medianTimePastAt: (h) => medianTimePast(e.getAncestor(h)),
        scriptsVerified: (tx, flags) => this.d.scriptCache.take(tx.txid(), flags),
        onScriptCheck: (c) => checks.add(c),
      },
      this.params,
    );
    if (next) {
      // Every coin this block reads or changes is in the cache now, so the next block's read
      // (which skips what the cache holds) sees only coins no unflushed change touches.
      const list = connectFetchList(next.block, next.height, this.params);
      const read = this.coins.prefetch(list);
      read.catch(() => undefined);
      pipe.prefetch = { block: next.block, list, read };
    }
    const fail = await checks.finish();
    if (fail) throw scriptFailure(block.txs[fail.index], fail.input, fail.code);
    return undo;
  }
}

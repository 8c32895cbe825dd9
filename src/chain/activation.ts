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
import type { ScriptVerifyPool, VerifyRun } from './verify-pool.js';
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

/** A block walked (every rule checked but its scripts, which the pool is verifying), not yet judged. */
interface Walked {
  e: BlockEntry;
  block: Block;
  /** Its changes to the coins, on top of the block walked before it. */
  layer: CoinsLayer;
  undo: BlockUndo;
  checks: VerifyRun;
  /** The coins cache's generation after its coins were read (a flush since empties the cache). */
  generation: number;
  started: number;
}

/** Accepts the next block being handed over and returns it; null when none is left. */
export type MoreBlocks = () => Promise<Block | null>;

/** What a path being connected has under way (connectPath). */
interface Pipeline {
  /** The last connected block's write, then its 'connect' event. */
  landed: Promise<void>;
  /** The next block's coins being read, and the list read (its fetch takes the same outpoints). */
  prefetch: { block: Block; list: OutPoint[]; read: Promise<number | null> } | null;
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
   * Blocks accepted during the current processBlocks call and not yet connected and told,
   * connected from memory rather than read back and decoded again (a block is decoded once per
   * arrival). Holds at most the call's run and the blocks supplied after it (MAX_SUPPLIED_BLOCKS),
   * less those connected, and the orphans they free (bounded by maxOrphans); emptied when the
   * call ends.
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

  /** The coins of the first block of a run, read while the run is accepted (readAhead). */
  private firstRead: Pipeline['prefetch'] = null;

  /**
   * Starts reading the coins of `block` if it extends the tip (the first block of a run a syncing
   * node hands over), beside the run's acceptance: the path that connects it finds them read. A
   * read ahead is guarded against flushes like every other (CoinsCache.prefetch).
   */
  readAhead(block: Block): void {
    const tip = this.tree.tip;
    if (equalBytes(block.header.prevHash, tip.hash)) this.firstRead = this.readCoinsAhead(block, tip);
  }

  /** Starts the flush-guarded read of the coins `block` on `prev` needs; awaited by its walk. */
  private readCoinsAhead(block: Block, prev: BlockEntry): NonNullable<Pipeline['prefetch']> {
    const list = this.fetchList(block, prev);
    const read = this.coins.prefetch(list);
    read.catch(() => undefined);
    return { block, list, read };
  }

  /** Display hex of the ancestor at the BIP34 height of the block after `prev` (Core's
   * pprev->GetAncestor(BIP34Height)), which decides whether BIP30 is read (enforcesBIP30). */
  private bip34Ancestor(prev: BlockEntry): string | undefined {
    return prev.getAncestor(this.params.bip34Height)?.hashHex;
  }

  /** Where `block` on `prev` connects: its height and what decides BIP30 (connectFetchList's). */
  private placeOf(prev: BlockEntry): { height: number; bip34Ancestor: string | undefined } {
    return { height: prev.height + 1, bip34Ancestor: this.bip34Ancestor(prev) };
  }

  /** What connectBlock reads for `block` on `prev` (connectFetchList). */
  private fetchList(block: Block, prev: BlockEntry): OutPoint[] {
    return connectFetchList(block, this.placeOf(prev), this.params);
  }

  /** Ends a processBlock: its arrivals and, after a failure that left them, the pending writes. */
  forgetArrivals(): void {
    this.firstRead = null;
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
  async activateBestChain(equalWork = false, more?: MoreBlocks): Promise<void> {
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
      await this.connectPath(path, more);
      more = undefined;
    }
    tree.pruneCandidates();
    if (tree.tip !== startTip) {
      // node/'s tip log says it for people (one line per block, or summaries while catching up).
      this.log?.debug({ height: tree.tip.height, hash: tree.tip.hashHex }, 'UpdateTip');
      this.d.events.emit('tip', tree.tip);
    }
  }

  /**
   * Connects `path` (blocks extending the tip, lowest first) as a pipeline. Each block is walked
   * (its coins read, every rule but its scripts checked, its script checks handed to the verify
   * pool) on top of the block before it while that block's scripts are still being verified by
   * the workers; only then is the block before judged: this thread joins its checks, and once
   * they pass it becomes the tip and its undo data and index entry are written while the next
   * block is walked. The next block's coins are read while this thread verifies. Nothing is
   * assumed of a block before its own verdict: a block is applied to the coins and made the tip
   * only once its scripts passed and the write of the one before it has landed, so the tip and
   * the 'connect' events move one block at a time, in order, each event after its block's write;
   * a block walked on top of one that fails is dropped with it. With no workers each block is
   * judged before the next is walked. Stops at the first block that fails; returns once every
   * write and read it started has ended.
   *
   * `more`: blocks being handed over (Chain.processBlocks). As the path reaches its end, the next one is
   * accepted (checked and stored) while the workers verify the block walked last, and the path
   * goes on through it when it is a child of the path's end; it stops taking them otherwise.
   */
  private async connectPath(start: readonly BlockEntry[], more?: MoreBlocks): Promise<void> {
    const path = [...start];
    const pipe: Pipeline = { landed: Promise.resolve(), prefetch: this.firstRead };
    this.firstRead = null;
    /** The blocks walked and not yet judged (at most two: the one judged and the next). */
    const open = new Set<Walked>();
    /** The block walked last, its scripts not yet judged. */
    let walked: Walked | null = null;
    let ended = false;
    try {
      for (let i = 0; i < path.length; i++) {
        const e = path[i];
        if (more && i === path.length - 1) {
          const got = await more();
          const g = got && this.tree.getEntry(got.hash());
          if (g && g.prev === e && g.hasData() && !g.isFailed()) path.push(g);
          else more = undefined;
        }
        const block = await this.readBlock(e);
        const n = path[i + 1];
        const nextBlock = n && this.arrivals.get(n.hashHex);
        const next = nextBlock && { block: nextBlock, prev: e };
        const cur = await this.walk(e, block, walked?.layer ?? null, pipe, next);
        if (!(cur instanceof RejectError)) open.add(cur);
        const before = walked;
        walked = null;
        if (before) {
          open.delete(before);
          if (!(await this.judge(before, pipe))) break; // `cur` is dropped below: it built on a failure.
        }
        if (cur instanceof RejectError) {
          await this.fail(e, cur, pipe);
          break;
        }
        walked = cur;
        if (this.d.pool.threads === 0 || cur.checks.empty) {
          // No workers to verify it while the next block is walked, or nothing to verify (every
          // script passed at mempool entry): judge it now, so that the next block's coins are
          // read while this thread verifies, and the next block is walked on the coins alone
          // (a walk on top of an unjudged block looks each coin up through its layer too: a
          // fifth more work for the connecting thread with warm blocks and one worker).
          open.delete(cur);
          walked = null;
          if (!(await this.judge(cur, pipe))) break;
        }
      }
      if (walked) {
        open.delete(walked);
        await this.judge(walked, pipe);
      }
      ended = true;
    } finally {
      // Whatever happened, nothing this path started runs past it.
      for (const w of open) w.checks.abandon();
      if (!ended) await Promise.allSettled([pipe.landed, pipe.prefetch?.read]);
    }
    await pipe.prefetch?.read;
    await pipe.landed;
  }

  /** Marks `e` invalid once the blocks before it are written. */
  private async fail(e: BlockEntry, err: RejectError, pipe: Pipeline): Promise<void> {
    await pipe.landed;
    const batch = this.batch();
    this.tree.markFailed(e, err, batch);
    await this.write(batch);
  }

  /**
   * Judges a walked block: waits for its scripts (this thread verifying a share), then connects it
   * on top of the tip (see connectPath for `pipe`); false after a consensus failure, which marks
   * the block invalid.
   */
  private async judge(w: Walked, pipe: Pipeline): Promise<boolean> {
    const { e, block } = w;
    const failure = await w.checks.finish();
    if (failure) {
      await this.fail(e, scriptFailure(block.txs[failure.index], failure.input, failure.code), pipe);
      return false;
    }
    // The block before is the tip and its event told before this one changes anything.
    await pipe.landed;
    // A flush since the walk emptied the cache: the coins this block spends are read again, so
    // that applying it removes them.
    if (this.coins.generation !== w.generation) await this.coins.fetch(this.fetchList(block, e.prev!));
    w.layer.apply(false);
    e.status |= BlockStatus.VALID_SCRIPTS;
    const batch = this.batch().putUndo(e.hash, w.undo).putIndex(e.hash, e.record());
    this.tree.pushActive(e);
    const told = (): void => {
      const seconds = (performance.now() - w.started) / 1000;
      this.d.events.emit('connect', { block, entry: e, height: e.height, seconds });
      // Told and on disk: a long processBlocks call does not keep its connected blocks in memory.
      this.arrivals.delete(e.hashHex);
    };
    if (this.coins.memoryUsage > this.d.dbcacheBytes) {
      // A flush writes the cache and empties it: the next block's read must not straddle it.
      await pipe.prefetch?.read;
      await this.flush(batch);
      told();
      pipe.landed = Promise.resolve();
    } else {
      const written = this.write(batch).then(told);
      // Awaited by the next step or by connectPath; never left unhandled meanwhile.
      written.catch(() => undefined);
      pipe.landed = written;
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
    return this.coins.fetch(block.txs.flatMap((tx) => tx.outputs.map((_, i) => tx.outpoint(i))));
  }

  disconnectInto(layer: CoinsLayer, block: Block, undo: BlockUndo, e: BlockEntry): void {
    if (undo.length !== block.txs.length - 1)
      throw new ChainCorruptionError(
        `database corrupted: undo data of block ${e.hashHex} does not match the block`,
      );
    for (let t = block.txs.length - 1; t >= 0; t--) {
      const tx = block.txs[t];
      for (let i = 0; i < tx.outputs.length; i++) {
        if (isUnspendable(tx.outputs[i].scriptPubKey)) continue;
        if (!layer.spend(tx.outpoint(i)))
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

  /**
   * Full validation of a block against the UTXO set (consensus/connect.ts) but its scripts, which
   * go to the verify pool as the walk makes them, so the workers verify while this thread walks
   * on: on top of `below` (the block before, walked but not yet judged) when there is one. A
   * RejectError comes back as a value.
   */
  private async walk(
    e: BlockEntry,
    block: Block,
    below: CoinsLayer | null,
    pipe: Pipeline,
    next?: { block: Block; prev: BlockEntry },
  ): Promise<Walked | RejectError> {
    const started = performance.now();
    const place = this.placeOf(e.prev!);
    const early = pipe.prefetch;
    pipe.prefetch = null;
    const readAt = await early?.read;
    // What the read ahead did not keep (a flush came between) is read now.
    if (early?.block !== block) await this.coins.fetch(connectFetchList(block, place, this.params));
    else if (readAt !== this.coins.generation) await this.coins.fetch(early.list);
    const generation = this.coins.generation;
    const layer = new CoinsLayer(this.coins, below);
    const checks = this.d.pool.begin();
    let undo: BlockUndo;
    try {
      ({ undo } = connectBlock(
        block,
        layer,
        {
          ...place,
          prevMedianTimePast: medianTimePast(e.prev),
          medianTimePastAt: (h) => medianTimePast(e.getAncestor(h)),
          scriptsVerified: (tx, flags) => this.d.scriptCache.take(tx.txidKey(), flags),
          onScriptCheck: (c) => checks.add(c),
        },
        this.params,
      ));
    } catch (err) {
      // The block broke another rule: its scripts no longer matter, and the workers leave them.
      checks.abandon();
      if (err instanceof RejectError) return err;
      throw err;
    }
    // The workers finish this block's checks and go on to the next block's while this thread
    // walks it; this thread joins this block's checks when it judges the block.
    checks.seal();
    // Every coin this block and the one below read or change is in the cache or in their layers
    // now, so the next block's read (which skips what the cache holds) reads only coins no
    // unflushed change touches, or finds nothing for the coins those layers create.
    if (next) pipe.prefetch = this.readCoinsAhead(next.block, next.prev);
    return { e, block, layer, undo, checks, generation, started };
  }
}

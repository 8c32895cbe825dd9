// The chain state machine: header index, best-chain selection by total work, block connection
// with full validation (scripts on the verify pool), disconnection from undo data, reorgs of any
// depth, orphans, operator invalidation, start-up recovery of an interrupted flush, start-up
// verification of the last blocks, reindex, and the UTXO-set digest. See docs/chain.md.
// Every public operation that changes state runs one at a time (an internal queue), so callers
// may fire them concurrently.
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Block, type BlockHeader } from '../primitives/block.js';
import { BufferWriter, DecodeError, equalBytes, reverseHex } from '../primitives/bytes.js';
import { OutPoint, type Tx } from '../primitives/tx.js';
import type { ChainParams } from '../consensus/params.js';
import { blockWork } from '../consensus/pow.js';
import { getNextWorkRequired } from '../consensus/retarget.js';
import { RejectError, consensusError } from '../consensus/errors.js';
import {
  checkBlock,
  checkBlockHeader,
  contextualCheckBlock,
  contextualCheckBlockHeader,
} from '../consensus/block-check.js';
import { calculateSequenceLocks, checkSequenceLocks, checkTxInputs } from '../consensus/tx-verify.js';
import { blockSubsidy } from '../consensus/subsidy.js';
import { blockScriptFlags } from '../consensus/flags.js';
import { ScriptFlags } from '../script/flags.js';
import { getLegacySigOpCount, getP2SHSigOpCount } from '../script/sigops.js';
import { ScriptVerifyPool, type VerifyFailure, type VerifyJob } from './verify-pool.js';
import { BlockEntry, findFork, medianTimePast } from './block-index.js';
import { CoinsCache, CoinsLayer } from './coins.js';
import { ScriptExecCache } from './script-cache.js';
import {
  BlockStatus,
  ChainCorruptionError,
  type BlockUndo,
  type ChainStore,
  type StoreBatch,
  type StoredCoin,
} from './ports.js';

/** pino-compatible subset. */
export interface ChainLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ChainOptions {
  store: ChainStore;
  params: ChainParams;
  /** Coins cache size in MiB (Bitcoin Core's -dbcache); 0 flushes after every block. Default 300. */
  dbcacheMB?: number;
  /** Script-check threads; 0 verifies on the calling thread. Default: all cores. */
  verifyThreads?: number;
  /** A pool to share (the chain then does not close it). */
  verifyPool?: ScriptVerifyPool;
  logger?: ChainLogger;
  /** Seconds since the epoch; tests inject their own clock. */
  now?: () => number;
  /** Blocks verified at start-up (Bitcoin Core's -checkblocks). Default 6. */
  checkBlocks?: number;
  /** Rebuild the UTXO set from stored blocks at start-up. */
  reindex?: boolean;
  /** Orphan blocks held at most. Default 100. */
  maxOrphans?: number;
  /** Entries of the script-execution cache. Default 100,000. */
  scriptCacheSize?: number;
  /** Largest write batch of a coins flush in bytes (Bitcoin Core's -dbbatchsize). Default 16 MiB. */
  maxBatchBytes?: number;
  /**
   * Connect stored blocks that are not yet on the active chain during open (default true). Pass
   * false to subscribe to events first, then call activate().
   */
  activate?: boolean;
}

export interface ProcessResult {
  /** False when the block (or its data) was rejected; reason then says why. */
  accepted: boolean;
  reason?: string;
  /** The error with its category and DoS score, when rejected. */
  error?: RejectError;
  /** The block was not known with its data before. */
  isNew: boolean;
  /** Held until its parent arrives. */
  orphan?: boolean;
}

export interface HeadersResult {
  /** Headers added to the index. */
  added: number;
  reason?: string;
  error?: RejectError;
  /** The entry of the last header processed, if it is known. */
  last?: BlockEntry;
}

export interface TipInfo {
  hash: Uint8Array;
  hashHex: string;
  height: number;
  chainWork: bigint;
  time: number;
  bits: number;
  medianTimePast: number;
}

export interface UtxoDigest {
  height: number;
  bestBlock: string;
  /** Unspent outputs. */
  count: number;
  totalAmount: bigint;
  /** SHA-256 over the serialised set in outpoint order, display hex. */
  hash: string;
}

export interface ChainTip {
  height: number;
  hash: string;
  branchlen: number;
  status: 'active' | 'valid-fork' | 'valid-headers' | 'headers-only' | 'invalid';
}

export interface ConnectEvent {
  block: Block;
  entry: BlockEntry;
  height: number;
}

export interface ChainEvents {
  connect: [ConnectEvent];
  disconnect: [ConnectEvent];
  tip: [BlockEntry];
}

const MUTATION_REASONS = new Set(['bad-txnmrklroot', 'bad-txns-duplicate']);
const MAX_SCRIPT_SIZE = 10_000;

/** Script jobs of one block, sent to the pool in slices; the earliest failure wins. */
class ScriptChecks {
  private pending: VerifyJob[] = [];
  private inputs = 0;
  private readonly running: Promise<VerifyFailure | null>[] = [];
  private readonly slice: number;
  constructor(private readonly pool: ScriptVerifyPool) {
    this.slice = Math.max(1, pool.threads) * 64;
  }
  add(job: VerifyJob): void {
    this.pending.push(job);
    this.inputs += job.prevouts.length;
    if (this.pool.threads > 0 && this.inputs >= this.slice) this.dispatch();
  }
  private dispatch(): void {
    if (this.pending.length === 0) return;
    const p = this.pool.verify(this.pending);
    // A rule that fails later in the block may abandon this promise: never leave it unhandled.
    p.catch(() => undefined);
    this.running.push(p);
    this.pending = [];
    this.inputs = 0;
  }
  async finish(): Promise<VerifyFailure | null> {
    this.dispatch();
    let first: VerifyFailure | null = null;
    for (const r of await Promise.all(this.running)) {
      if (r && (!first || r.index < first.index || (r.index === first.index && r.input < first.input)))
        first = r;
    }
    return first;
  }
}

/** Outputs no one can spend never enter the UTXO set (OP_RETURN, oversized scripts). */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === 0x6a) || script.length > MAX_SCRIPT_SIZE;
}

function isMutation(e: RejectError): boolean {
  return (
    MUTATION_REASONS.has(e.reason) || (e as { corruptionPossible?: boolean }).corruptionPossible === true
  );
}

export class Chain extends EventEmitter<ChainEvents> {
  readonly params: ChainParams;
  readonly scriptCache: ScriptExecCache;
  private readonly store: ChainStore;
  private readonly coins: CoinsCache;
  private readonly pool: ScriptVerifyPool;
  private readonly ownPool: boolean;
  private readonly log?: ChainLogger;
  private readonly now: () => number;
  private readonly dbcacheBytes: number;
  private readonly maxBatchBytes: number;
  private readonly maxOrphans: number;

  private readonly index = new Map<string, BlockEntry>();
  private active: BlockEntry[] = [];
  private readonly candidates = new Set<BlockEntry>();
  /** Entries with data whose parent lacks chain data, by parent. */
  private readonly unlinked = new Map<BlockEntry, BlockEntry[]>();
  private readonly orphans = new Map<string, Block>();
  private readonly failReasons = new Map<BlockEntry, RejectError>();
  private bestHeaderEntry!: BlockEntry;
  private diskBest: Uint8Array | null = null;
  private sequence = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(opts: ChainOptions) {
    super();
    this.store = opts.store;
    this.params = opts.params;
    this.log = opts.logger;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.dbcacheBytes = (opts.dbcacheMB ?? 300) * 1024 * 1024;
    this.maxBatchBytes = opts.maxBatchBytes ?? 16 << 20;
    this.maxOrphans = opts.maxOrphans ?? 100;
    this.coins = new CoinsCache(this.store);
    this.scriptCache = new ScriptExecCache(opts.scriptCacheSize ?? 100_000);
    this.ownPool = !opts.verifyPool;
    this.pool =
      opts.verifyPool ?? ScriptVerifyPool.create({ threads: opts.verifyThreads ?? availableParallelism() });
  }

  static async open(opts: ChainOptions): Promise<Chain> {
    const chain = new Chain(opts);
    try {
      await chain.load(opts.reindex ?? false);
      await chain.verifyRecent(opts.checkBlocks ?? 6);
      if (opts.activate !== false) await chain.activateBestChain();
    } catch (e) {
      // The chain owns the store from here: a failed open must not leave the directory locked.
      if (chain.ownPool) await chain.pool.close();
      await opts.store.close().catch(() => undefined);
      throw e;
    }
    return chain;
  }

  // ---- loading and recovery ----

  private async load(reindex: boolean): Promise<void> {
    const records = await this.store.loadIndex();
    if (records.length === 0) {
      await this.initGenesis();
      return;
    }
    records.sort((a, b) => a.height - b.height);
    for (const r of records) {
      const hash = r.header.hash();
      const prev = r.height === 0 ? null : this.index.get(reverseHex(r.header.prevHash));
      if (r.height > 0 && !prev)
        throw new ChainCorruptionError(`database corrupted: index entry ${reverseHex(hash)} has no parent`);
      const e = new BlockEntry(hash, r.header, r.height, r.chainWork, prev ?? null, r.status, r.sequence);
      this.index.set(e.hashHex, e);
      this.sequence = Math.max(this.sequence, r.sequence + 1);
    }
    const genesis = this.index.get(reverseHex(this.params.genesisHash));
    if (!genesis) throw new ChainCorruptionError('database holds another network (genesis block not found)');
    if (reindex) await this.beginReindex(genesis);
    const markers = await this.store.getMarkers();
    if (markers.headBlocks) {
      await this.replayBlocks(markers.headBlocks[0], markers.headBlocks[1]);
    } else if (!markers.best) {
      throw new ChainCorruptionError('database corrupted: no best-block marker (restart with reindex)');
    } else {
      this.diskBest = markers.best;
    }
    const tip = this.index.get(reverseHex(this.diskBest!));
    if (!tip)
      throw new ChainCorruptionError(
        `database corrupted: best block ${reverseHex(this.diskBest!)} not in the index`,
      );
    this.setActive(tip);
    for (const e of [...this.index.values()].sort((a, b) => a.height - b.height)) {
      if (!e.prev) e.haveChainData = e.hasData();
      else if (e.hasData()) {
        if (e.prev.haveChainData) e.haveChainData = true;
        else this.addUnlinked(e);
      }
    }
    this.rebuildCandidates();
    this.bestHeaderEntry = this.computeBestHeader();
    this.log?.info({ height: tip.height, hash: tip.hashHex, entries: this.index.size }, 'chain loaded');
  }

  private async initGenesis(): Promise<void> {
    const g = this.params.genesis;
    const status = BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA | BlockStatus.VALID_SCRIPTS;
    const e = new BlockEntry(g.hash(), g.header, 0, blockWork(g.header.bits), null, status, 0);
    e.haveChainData = true;
    this.index.set(e.hashHex, e);
    // The genesis coinbase is not spendable (as in Bitcoin): it never enters the UTXO set.
    await this.store
      .batch()
      .putBlock(e.hash, g.encode())
      .putIndex(e.hash, e.record())
      .setBest(e.hash)
      .write();
    this.diskBest = e.hash;
    this.setActive(e);
    this.candidates.add(e);
    this.bestHeaderEntry = e;
  }

  /** Bitcoin Core's ReplayBlocks: finish a flush that was interrupted between its batches. */
  private async replayBlocks(newHash: Uint8Array, oldHash: Uint8Array | null): Promise<void> {
    const target = this.index.get(reverseHex(newHash));
    if (!target)
      throw new ChainCorruptionError(
        `database corrupted: head block ${reverseHex(newHash)} not in the index`,
      );
    const old = oldHash ? this.index.get(reverseHex(oldHash)) : undefined;
    if (oldHash && !old)
      throw new ChainCorruptionError(
        `database corrupted: head block ${reverseHex(oldHash)} not in the index`,
      );
    const fork = old ? findFork(old, target) : null;
    this.log?.warn({ from: old?.hashHex, to: target.hashHex }, 'replaying an interrupted coins flush');
    for (let e = old ?? null; e && e !== fork; e = e.prev) {
      const [block, undo] = await Promise.all([this.readBlock(e), this.readUndo(e)]);
      this.rollback(block, undo);
    }
    const path: BlockEntry[] = [];
    for (let e: BlockEntry | null = target; e && e !== fork; e = e.prev) path.push(e);
    for (const e of path.reverse()) this.rollforward(await this.readBlock(e), e.height);
    await this.coins.flush(target.hash, oldHash, { maxBatchBytes: this.maxBatchBytes });
    this.diskBest = target.hash;
  }

  /** Undo a block's coin changes without checks (replay: the changes may be half-applied). */
  private rollback(block: Block, undo: BlockUndo): void {
    if (
      undo.length !== block.txs.length - 1 ||
      undo.some((u, i) => u.length !== block.txs[i + 1].inputs.length)
    )
      throw new ChainCorruptionError(
        `database corrupted: undo data of block ${block.hashHex()} does not match the block`,
      );
    for (let t = block.txs.length - 1; t >= 0; t--) {
      const tx = block.txs[t];
      const txid = tx.txid();
      for (let i = 0; i < tx.outputs.length; i++) this.coins.erase(new OutPoint(txid, i));
      if (t > 0) {
        const coins = undo[t - 1];
        for (let i = tx.inputs.length - 1; i >= 0; i--) this.coins.add(tx.inputs[i].prevout, coins[i], true);
      }
    }
  }

  private rollforward(block: Block, height: number): void {
    for (let t = 0; t < block.txs.length; t++) {
      const tx = block.txs[t];
      if (t > 0) for (const i of tx.inputs) this.coins.erase(i.prevout);
      const txid = tx.txid();
      tx.outputs.forEach((o, i) => {
        if (!isUnspendable(o.scriptPubKey))
          this.coins.add(
            new OutPoint(txid, i),
            { value: o.value, script: o.scriptPubKey, height, coinbase: t === 0 },
            true,
          );
      });
    }
  }

  private async beginReindex(genesis: BlockEntry): Promise<void> {
    this.log?.info({}, 'reindex: rebuilding the UTXO set from stored blocks');
    await this.store.wipeCoins();
    const b = this.store.batch();
    for (const e of this.index.values()) {
      if (e !== genesis && e.status & BlockStatus.VALID_SCRIPTS) {
        e.status &= ~BlockStatus.VALID_SCRIPTS;
        b.putIndex(e.hash, e.record());
      }
    }
    await b.setBest(genesis.hash).write();
  }

  /** Start-up check of the last blocks (Bitcoin Core's -checkblocks at level 3). */
  private async verifyRecent(n: number): Promise<void> {
    const layer = new CoinsLayer(this.coins);
    for (let e: BlockEntry | null = this.tip, i = 0; e && e.prev && i < n; e = e.prev, i++) {
      const block = await this.readBlock(e);
      try {
        checkBlock(block, this.params);
      } catch (err) {
        throw new ChainCorruptionError(
          `database corrupted: stored block ${e.hashHex} fails checks: ${String(err)}`,
        );
      }
      const undo = await this.readUndo(e);
      await this.coins.fetch(block.txs.flatMap((tx) => tx.outputs.map((_, i) => new OutPoint(tx.txid(), i))));
      this.disconnectInto(layer, block, undo, e);
    }
  }

  private async readBlock(e: BlockEntry): Promise<Block> {
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

  private async readUndo(e: BlockEntry): Promise<BlockUndo> {
    const undo = await this.store.getUndo(e.hash);
    if (!undo)
      throw new ChainCorruptionError(
        `database corrupted: undo data of block ${e.hashHex} (height ${e.height}) missing`,
      );
    return undo;
  }

  // ---- queries ----

  get tip(): BlockEntry {
    return this.active[this.active.length - 1];
  }

  get height(): number {
    return this.active.length - 1;
  }

  get bestHeader(): BlockEntry {
    return this.bestHeaderEntry;
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
    return this.index.get(typeof hash === 'string' ? hash : reverseHex(hash));
  }

  getHeader(hash: Uint8Array | string): BlockHeader | undefined {
    return this.getEntry(hash)?.header;
  }

  async getBlock(hash: Uint8Array | string): Promise<Block | undefined> {
    const e = this.getEntry(hash);
    if (!e || !e.hasData()) return undefined;
    return this.readBlock(e);
  }

  /** The stored serialisation of a block (serving peers without re-encoding), if its body is stored. */
  async getBlockBytes(hash: Uint8Array | string): Promise<Uint8Array | undefined> {
    const e = this.getEntry(hash);
    if (!e?.hasData()) return undefined;
    return this.store.getBlock(e.hash);
  }

  getBlockHashAtHeight(height: number): Uint8Array | undefined {
    return this.active[height]?.hash;
  }

  getEntryAtHeight(height: number): BlockEntry | undefined {
    return this.active[height];
  }

  isOnActiveChain(e: BlockEntry): boolean {
    return this.active[e.height] === e;
  }

  /** Block locator from `from` (default the tip): the last 10 hashes, then exponentially sparser. */
  getLocator(from: BlockEntry = this.tip): Uint8Array[] {
    const out: Uint8Array[] = [];
    let step = 1;
    for (let e: BlockEntry | null = from; e;) {
      out.push(e.hash);
      if (e.height === 0) break;
      const h = Math.max(e.height - step, 0);
      e = this.isOnActiveChain(e) ? this.active[h] : e.getAncestor(h);
      if (out.length > 10) step *= 2;
    }
    return out;
  }

  /** The last locator entry on the active chain (genesis if none). */
  findFork(locator: readonly Uint8Array[]): BlockEntry {
    for (const h of locator) {
      const e = this.getEntry(h);
      if (e && this.isOnActiveChain(e)) return e;
    }
    return this.active[0];
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
    const e = this.active[height];
    if (!e) throw new RangeError(`no block at height ${height} on the active chain`);
    return medianTimePast(e);
  }

  /** Bits required for the block after `prev` (default the tip). */
  nextWorkRequired(prev: BlockEntry = this.tip): number {
    return getNextWorkRequired(prev, (h) => prev.getAncestor(h)!, this.params);
  }

  getChainTips(): ChainTip[] {
    const hasChild = new Set<BlockEntry>();
    for (const e of this.index.values()) if (e.prev) hasChild.add(e.prev);
    const tips: ChainTip[] = [];
    for (const e of this.index.values()) {
      if (hasChild.has(e) && e !== this.tip) continue;
      const fork = findFork(e, this.tip);
      let status: ChainTip['status'];
      if (e === this.tip) status = 'active';
      else if (e.isFailed()) status = 'invalid';
      else if (!e.haveChainData) status = 'headers-only';
      else if (e.status & BlockStatus.VALID_SCRIPTS) status = 'valid-fork';
      else status = 'valid-headers';
      tips.push({ height: e.height, hash: e.hashHex, branchlen: e.height - fork.height, status });
    }
    return tips.sort((a, b) => b.height - a.height);
  }

  get orphanCount(): number {
    return this.orphans.size;
  }

  /** Coins-cache memory in bytes (for progress and the bench). */
  get cacheBytes(): number {
    return this.coins.memoryUsage;
  }

  // ---- headers ----

  /** Adds headers to the index (headers-first sync); each must extend a known header. */
  async processHeaders(headers: readonly BlockHeader[]): Promise<HeadersResult> {
    return this.exclusive(async () => {
      const batch = this.store.batch();
      let added = 0;
      let last: BlockEntry | undefined;
      let err: RejectError | undefined;
      for (const h of headers) {
        try {
          const r = this.acceptHeader(h, batch);
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

  private acceptHeader(h: BlockHeader, batch: StoreBatch): { entry: BlockEntry; added: boolean } {
    const hash = h.hash();
    const known = this.getEntry(hash);
    if (known) {
      if (known.isFailed()) throw consensusError('duplicate-invalid', known.hashHex, 0);
      return { entry: known, added: false };
    }
    checkBlockHeader(h, this.params);
    const prev = this.getEntry(h.prevHash);
    if (!prev) throw consensusError('prev-blk-not-found', reverseHex(h.prevHash), 10);
    if (prev.isFailed()) throw consensusError('bad-prevblk', prev.hashHex);
    contextualCheckBlockHeader(
      h,
      {
        height: prev.height + 1,
        medianTimePast: medianTimePast(prev),
        expectedBits: this.nextWorkRequired(prev),
      },
      this.params,
      this.now(),
    );
    const e = new BlockEntry(
      hash,
      h,
      prev.height + 1,
      prev.chainWork + blockWork(h.bits),
      prev,
      BlockStatus.VALID_HEADER,
      0,
    );
    this.index.set(e.hashHex, e);
    batch.putIndex(e.hash, e.record());
    if (e.chainWork > this.bestHeaderEntry.chainWork) this.bestHeaderEntry = e;
    return { entry: e, added: true };
  }

  // ---- blocks ----

  /** Validates a block, stores it and moves the tip to the most-work valid chain. */
  async processBlock(block: Block): Promise<ProcessResult> {
    return this.exclusive(async () => {
      const res = await this.acceptBlock(block);
      if (!res.accepted || res.orphan || !res.isNew) return res;
      await this.activateBestChain();
      await this.processOrphans(block.hash());
      const err = this.failureOf(this.getEntry(block.hash())!);
      if (err) return { accepted: false, reason: err.reason, error: err, isNew: true };
      return res;
    });
  }

  private reject(e: RejectError, isNew: boolean): ProcessResult {
    return { accepted: false, reason: e.reason, error: e, isNew };
  }

  private async acceptBlock(block: Block): Promise<ProcessResult> {
    const hash = block.hash();
    const known = this.getEntry(hash);
    if (known?.isFailed())
      return this.reject(
        this.failReasons.get(known) ?? consensusError('duplicate-invalid', known.hashHex, 0),
        false,
      );
    if (known?.hasData()) return { accepted: true, isNew: false };
    try {
      checkBlockHeader(block.header, this.params);
    } catch (e) {
      if (e instanceof RejectError) return this.reject(e, true);
      throw e;
    }
    const prev = this.getEntry(block.header.prevHash);
    if (!prev) {
      this.addOrphan(block);
      return { accepted: true, isNew: true, orphan: true };
    }
    if (prev.isFailed()) return this.reject(consensusError('bad-prevblk', prev.hashHex), true);
    const batch = this.store.batch();
    let entry = known;
    if (!entry) {
      try {
        entry = this.acceptHeader(block.header, batch).entry;
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
      if (isMutation(e) || !this.matchesHeader(block)) {
        await batch.write();
        return this.reject(e, true);
      }
      this.markFailed(entry, e, batch);
      await batch.write();
      return this.reject(e, true);
    }
    entry.status |= BlockStatus.HAVE_DATA;
    entry.sequence = this.sequence++;
    await batch.putBlock(hash, block.encode()).putIndex(hash, entry.record()).write();
    this.receivedData(entry);
    return { accepted: true, isNew: true };
  }

  /** Why an entry is invalid: its own failure or that of the ancestor that failed. */
  private failureOf(e: BlockEntry): RejectError | undefined {
    if (!e.isFailed()) return undefined;
    for (let a: BlockEntry | null = e; a; a = a.prev) {
      const err = this.failReasons.get(a);
      if (err) return a === e ? err : consensusError('bad-prevblk', `ancestor ${a.hashHex}: ${err.reason}`);
    }
    return consensusError('duplicate-invalid', e.hashHex, 0);
  }

  private matchesHeader(block: Block): boolean {
    const m = block.merkle();
    return !m.mutated && equalBytes(m.root, block.header.merkleRoot);
  }

  private addOrphan(block: Block): void {
    const k = block.hashHex();
    if (this.orphans.has(k)) return;
    if (this.orphans.size >= this.maxOrphans) {
      // Oldest first: Map iteration follows insertion order.
      const oldest = this.orphans.keys().next().value!;
      this.orphans.delete(oldest);
    }
    this.orphans.set(k, block);
  }

  private async processOrphans(parent: Uint8Array): Promise<void> {
    const queue = [reverseHex(parent)];
    while (queue.length > 0) {
      const p = queue.shift()!;
      for (const [k, b] of [...this.orphans]) {
        if (reverseHex(b.header.prevHash) !== p) continue;
        this.orphans.delete(k);
        const r = await this.acceptBlock(b);
        if (r.accepted) {
          await this.activateBestChain();
          queue.push(k);
        }
      }
    }
  }

  private addUnlinked(e: BlockEntry): void {
    const list = this.unlinked.get(e.prev!) ?? [];
    list.push(e);
    this.unlinked.set(e.prev!, list);
  }

  /** A body arrived: it and any children waiting on it may now be tips. */
  private receivedData(entry: BlockEntry): void {
    if (!entry.prev!.haveChainData) {
      this.addUnlinked(entry);
      return;
    }
    const queue = [entry];
    while (queue.length > 0) {
      const e = queue.shift()!;
      e.haveChainData = true;
      if (!e.isFailed() && e.chainWork >= this.tip.chainWork) this.candidates.add(e);
      const kids = this.unlinked.get(e);
      if (kids) {
        this.unlinked.delete(e);
        queue.push(...kids);
      }
    }
  }

  private markFailed(e: BlockEntry, err: RejectError, batch: StoreBatch): void {
    e.status |= BlockStatus.FAILED;
    this.failReasons.set(e, err);
    batch.putIndex(e.hash, e.record());
    this.candidates.delete(e);
    for (const d of this.index.values()) {
      if (d.height > e.height && d.getAncestor(e.height) === e && !(d.status & BlockStatus.FAILED_CHILD)) {
        d.status |= BlockStatus.FAILED_CHILD;
        batch.putIndex(d.hash, d.record());
        this.candidates.delete(d);
      }
    }
    if (this.bestHeaderEntry.isFailed()) this.bestHeaderEntry = this.computeBestHeader();
    this.log?.warn({ hash: e.hashHex, height: e.height, reason: err.reason }, 'block marked invalid');
  }

  private computeBestHeader(): BlockEntry {
    let best = this.active[0];
    for (const e of this.index.values()) if (!e.isFailed() && e.chainWork > best.chainWork) best = e;
    return best;
  }

  private rebuildCandidates(): void {
    this.candidates.clear();
    for (const e of this.index.values())
      if (e.haveChainData && !e.isFailed() && e.chainWork >= this.tip.chainWork) this.candidates.add(e);
  }

  private pickCandidate(): BlockEntry | undefined {
    let best: BlockEntry | undefined;
    for (const c of this.candidates) {
      if (
        !best ||
        c.chainWork > best.chainWork ||
        (c.chainWork === best.chainWork && c.sequence < best.sequence)
      )
        best = c;
    }
    return best;
  }

  private setActive(tip: BlockEntry): void {
    const arr: BlockEntry[] = new Array(tip.height + 1);
    for (let e: BlockEntry | null = tip; e; e = e.prev) arr[e.height] = e;
    this.active = arr;
  }

  /** Moves to the most-work chain whose blocks all validate (Bitcoin Core's ActivateBestChain). */
  private async activateBestChain(): Promise<void> {
    const startTip = this.tip;
    for (;;) {
      const best = this.pickCandidate();
      if (!best || best.chainWork <= this.tip.chainWork) break;
      const fork = findFork(this.tip, best);
      while (this.tip !== fork) await this.disconnectTip();
      const path: BlockEntry[] = [];
      for (let e: BlockEntry = best; e !== fork; e = e.prev!) path.push(e);
      path.reverse();
      for (const e of path) {
        const block = await this.readBlock(e);
        const err = await this.connectTip(e, block);
        if (err) break;
      }
    }
    for (const c of [...this.candidates]) if (c.chainWork < this.tip.chainWork) this.candidates.delete(c);
    if (this.tip !== startTip) {
      this.log?.info({ height: this.tip.height, hash: this.tip.hashHex }, 'new tip');
      this.emit('tip', this.tip);
    }
  }

  /** Connects `e` on top of the tip; on a consensus failure marks it invalid and returns the error. */
  private async connectTip(e: BlockEntry, block: Block): Promise<RejectError | undefined> {
    const layer = new CoinsLayer(this.coins);
    let undo: BlockUndo;
    try {
      undo = await this.connectBlock(e, block, layer);
    } catch (err) {
      if (!(err instanceof RejectError)) throw err;
      const batch = this.store.batch();
      this.markFailed(e, err, batch);
      await batch.write();
      return err;
    }
    layer.apply(false);
    e.status |= BlockStatus.VALID_SCRIPTS;
    const batch = this.store.batch().putUndo(e.hash, undo).putIndex(e.hash, e.record());
    this.active.push(e);
    await this.writeStep(batch);
    this.emit('connect', { block, entry: e, height: e.height });
    return undefined;
  }

  private async disconnectTip(): Promise<void> {
    const e = this.tip;
    const [block, undo] = await Promise.all([this.readBlock(e), this.readUndo(e)]);
    await this.coins.fetch(block.txs.flatMap((tx) => tx.outputs.map((_, i) => new OutPoint(tx.txid(), i))));
    const layer = new CoinsLayer(this.coins);
    this.disconnectInto(layer, block, undo, e);
    layer.apply(true);
    this.active.pop();
    // The block is still valid: it may become the tip again if the new branch fails.
    this.candidates.add(e);
    await this.writeStep(this.store.batch());
    this.emit('disconnect', { block, entry: e, height: e.height });
  }

  private disconnectInto(layer: CoinsLayer, block: Block, undo: BlockUndo, e: BlockEntry): void {
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
    if (this.coins.memoryUsage > this.dbcacheBytes) await this.flush(batch);
    else await batch.write();
  }

  private async flush(extra?: StoreBatch): Promise<void> {
    const t0 = Date.now();
    const entries = this.coins.size;
    await this.coins.flush(this.tip.hash, this.diskBest, { maxBatchBytes: this.maxBatchBytes }, extra);
    this.diskBest = this.tip.hash;
    this.log?.debug({ entries, ms: Date.now() - t0, height: this.tip.height }, 'coins flushed');
  }

  /** Full validation of a block against the UTXO set; returns its undo data. */
  private async connectBlock(e: BlockEntry, block: Block, view: CoinsLayer): Promise<BlockUndo> {
    const p = this.params;
    const height = e.height;
    const enforceBIP30 = !p.bip30Exceptions.some(
      (x) => x.height === height && x.hash.toLowerCase() === e.hashHex,
    );
    const fetch: OutPoint[] = [];
    for (let t = 0; t < block.txs.length; t++) {
      const tx = block.txs[t];
      if (t > 0) for (const i of tx.inputs) fetch.push(i.prevout);
      if (enforceBIP30) {
        const txid = tx.txid();
        for (let i = 0; i < tx.outputs.length; i++) fetch.push(new OutPoint(txid, i));
      }
    }
    await this.coins.fetch(fetch);

    const flags = blockScriptFlags(height, e.hash, p);
    const prevMtp = medianTimePast(e.prev);
    const enforceBIP68 = height >= p.csvHeight;
    const mtpAt = (h: number): number => medianTimePast(e.getAncestor(h));
    const undo: BlockUndo = [];
    // Script checks go to the workers in slices as soon as they are ready, so the workers verify
    // while this thread is still walking the rest of the block.
    const checks = new ScriptChecks(this.pool);
    let fees = 0n;
    let sigops = 0;
    for (let t = 0; t < block.txs.length; t++) {
      const tx = block.txs[t];
      const txid = tx.txid();
      if (enforceBIP30) {
        for (let i = 0; i < tx.outputs.length; i++)
          if (view.getCoin(new OutPoint(txid, i)))
            throw consensusError('bad-txns-BIP30', `tried to overwrite transaction ${tx.txidHex()}:${i}`);
      }
      sigops += getLegacySigOpCount(tx);
      if (t > 0) {
        fees += checkTxInputs(tx, view, height, p);
        const spent = tx.inputs.map((i) => view.getCoin(i.prevout)!);
        if (enforceBIP68) {
          const locks = calculateSequenceLocks(
            tx,
            spent.map((c) => c.height),
            mtpAt,
            true,
          );
          checkSequenceLocks(locks, height, prevMtp);
        }
        if (flags & ScriptFlags.P2SH)
          sigops += getP2SHSigOpCount(
            tx,
            spent.map((c) => c.script),
          );
        if (sigops > p.maxBlockSigops) throw consensusError('bad-blk-sigops', `${sigops} sigops`);
        if (!this.scriptCache.take(txid, flags)) {
          checks.add({
            index: t,
            tx: tx.encode(),
            prevouts: spent.map((c) => ({ value: c.value, script: c.script })),
            flags,
          });
        }
        for (const i of tx.inputs) view.spend(i.prevout);
        undo.push(spent);
      } else if (sigops > p.maxBlockSigops) {
        throw consensusError('bad-blk-sigops', `${sigops} sigops`);
      }
      this.addOutputs(view, tx, height, t === 0);
    }
    const reward = block.txs[0].outputs.reduce((s, o) => s + o.value, 0n);
    const limit = fees + blockSubsidy(height, p);
    if (reward > limit) throw consensusError('bad-cb-amount', `coinbase pays ${reward} > ${limit}`);
    const fail = await checks.finish();
    if (fail) {
      const tx = block.txs[fail.index];
      throw consensusError(
        `mandatory-script-verify-flag-failed (${fail.code})`,
        `tx ${tx.txidHex()} input ${fail.input}`,
      );
    }
    return undo;
  }

  private addOutputs(view: CoinsLayer, tx: Tx, height: number, coinbase: boolean): void {
    const txid = tx.txid();
    for (let i = 0; i < tx.outputs.length; i++) {
      const o = tx.outputs[i];
      if (isUnspendable(o.scriptPubKey)) continue;
      view.add(new OutPoint(txid, i), { value: o.value, script: o.scriptPubKey, height, coinbase });
    }
  }

  /** Moves the tip to the most-work valid chain of stored blocks (after open with activate: false). */
  async activate(): Promise<void> {
    return this.exclusive(() => this.activateBestChain());
  }

  // ---- operator actions ----

  /** Marks a block and its descendants invalid and moves the tip off them (invalidateblock). */
  async invalidateBlock(hash: Uint8Array | string): Promise<void> {
    return this.exclusive(async () => {
      const e = this.getEntry(hash);
      if (!e) throw new Error(`block ${typeof hash === 'string' ? hash : reverseHex(hash)} not found`);
      if (e.height === 0) throw new Error('the genesis block cannot be invalidated');
      while (this.isOnActiveChain(e)) await this.disconnectTip();
      const batch = this.store.batch();
      this.markFailed(e, consensusError('invalidated', 'by operator', 0), batch);
      await batch.write();
      this.rebuildCandidates();
      // Blocks that were on the old chain now have less work than before; any valid fork may win.
      for (const c of this.index.values())
        if (c.haveChainData && !c.isFailed() && c.chainWork > this.tip.chainWork) this.candidates.add(c);
      await this.activateBestChain();
      this.emit('tip', this.tip);
    });
  }

  /** Clears the invalid marks of a block, its ancestors and descendants (reconsiderblock). */
  async reconsiderBlock(hash: Uint8Array | string): Promise<void> {
    return this.exclusive(async () => {
      const e = this.getEntry(hash);
      if (!e) throw new Error(`block ${typeof hash === 'string' ? hash : reverseHex(hash)} not found`);
      const batch = this.store.batch();
      const clear = (x: BlockEntry): void => {
        if (!x.isFailed()) return;
        x.status &= ~(BlockStatus.FAILED | BlockStatus.FAILED_CHILD);
        this.failReasons.delete(x);
        batch.putIndex(x.hash, x.record());
      };
      for (const d of this.index.values())
        if (d.height >= e.height && d.getAncestor(e.height) === e) clear(d);
      for (let a: BlockEntry | null = e.prev; a; a = a.prev) clear(a);
      await batch.write();
      this.rebuildCandidates();
      this.bestHeaderEntry = this.computeBestHeader();
      await this.activateBestChain();
    });
  }

  // ---- the UTXO set ----

  /** Flushes the cache and hashes the whole UTXO set (like gettxoutsetinfo). */
  async utxoDigest(): Promise<UtxoDigest> {
    return this.exclusive(async () => {
      await this.flush();
      const h = createHash('sha256');
      let count = 0;
      let total = 0n;
      const w = new BufferWriter(256);
      for await (const [op, c] of this.store.iterateCoins()) {
        w.pos = 0;
        op.write(w);
        w.varint(c.height * 2 + (c.coinbase ? 1 : 0))
          .i64(c.value)
          .varBytes(c.script);
        h.update(w.finish());
        count++;
        total += c.value;
      }
      return {
        height: this.tip.height,
        bestBlock: this.tip.hashHex,
        count,
        totalAmount: total,
        hash: reverseHex(new Uint8Array(h.digest())),
      };
    });
  }

  /** Writes the coins cache to disk now. */
  async flushState(): Promise<void> {
    return this.exclusive(() => this.flush());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      await this.flush();
    });
    if (this.ownPool) await this.pool.close();
    await this.store.close();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('chain is closed'));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

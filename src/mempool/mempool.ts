// The transaction pool: unconfirmed transactions valid against the tip's UTXO set plus their
// unconfirmed parents, kept within a byte budget. Owns acceptance (the checks, consensus rules
// first, then policy, are validate.ts's), the spend index that finds conflicts, orphans, eviction
// and following the chain. Does not own storage of the UTXO set (reached through MempoolChain) or
// relay.
// Acceptance is serialised (one mutex, Core's cs_main around AcceptToMemoryPool): transactions
// from P2P, RPC, the wallet and mempool.dat enter one at a time, so a conflict check and the
// insertion it justifies never straddle an await that lets another acceptance in.
// A transaction spending what pool transactions spend replaces them when it pays more (Core's
// full RBF, replacement.ts): the evictions and the insertion are one step under the same lock.
// Fails by throwing RejectError: category 'consensus' for an invalid transaction (a peer that sent
// it is scored), 'policy' for one this node merely does not want.
import { EventEmitter } from 'node:events';
import { Mutex } from 'async-mutex';
import { RejectError, isRejectError } from '../consensus/errors.js';
import { OutPoint, type Tx } from '../primitives/tx.js';
import { bytesToHex } from '../primitives/bytes.js';
import type { SigCache } from '../script/sigcache.js';
import {
  DEFAULT_ANCESTOR_LIMIT,
  DEFAULT_DESCENDANT_LIMIT,
  DEFAULT_INCREMENTAL_RELAY_FEE_RATE,
  DEFAULT_MIN_RELAY_FEE_RATE,
  PolicyReason,
  feeForSize,
  policyReject,
} from './policy.js';
import { type Orphan, Orphanage } from './orphanage.js';
import { checkPackage, isChildWithParents } from './package.js';
import type {
  AcceptOptions,
  MempoolChain,
  MempoolEntry,
  MempoolOptions,
  PackageResult,
  PackageTxResult,
  Validated,
} from './types.js';
import { type AcceptConfig, MAX_FEERATE_EXCEEDED, validateTx } from './validate.js';

export type {
  AcceptOptions,
  MempoolChain,
  MempoolEntry,
  MempoolOptions,
  MempoolParams,
  PackageResult,
  PackageTxResult,
} from './types.js';

export class Mempool extends EventEmitter {
  private readonly entries = new Map<string, MempoolEntry>();
  /** outpoint key -> txid of the pool transaction spending it. */
  private readonly spends = new Map<string, string>();
  private readonly orphanage: Orphanage;
  private bytes = 0;
  private changes = 0;
  private rollingMinFeeRate = 0n;
  private lastRollingUpdate = 0;
  private readonly chain: MempoolChain;
  readonly maxBytes: number;
  readonly minRelayFeeRate: bigint;
  readonly incrementalRelayFeeRate: bigint;
  private readonly now: () => number;
  /** What validate.ts reads besides the pool itself. */
  private readonly acceptConfig: AcceptConfig;
  /**
   * Core's mapDeltas: fee deltas set by prioritisetransaction (internal txid hex -> base units),
   * kept for transactions not yet in the pool and dropped when a block confirms them. Only the
   * operator's RPC adds to it, as in Core, so it is not bounded by what peers send.
   */
  private readonly deltas = new Map<string, bigint>();
  /** Held by every acceptance and by reorganize(): one change to the pool at a time. */
  private readonly lock = new Mutex();

  constructor(opts: MempoolOptions) {
    super();
    this.chain = opts.chain;
    this.maxBytes = opts.maxBytes ?? 300_000_000;
    this.minRelayFeeRate = opts.minRelayFeeRate ?? DEFAULT_MIN_RELAY_FEE_RATE;
    this.incrementalRelayFeeRate = opts.incrementalRelayFeeRate ?? DEFAULT_INCREMENTAL_RELAY_FEE_RATE;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.acceptConfig = {
      chain: opts.chain,
      params: opts.params,
      ancestorLimit: opts.ancestorLimit ?? DEFAULT_ANCESTOR_LIMIT,
      descendantLimit: opts.descendantLimit ?? DEFAULT_DESCENDANT_LIMIT,
      sigCache: opts.sigCache,
      onScriptsVerified: opts.onScriptsVerified,
      now: this.now,
    };
    this.orphanage = new Orphanage(opts.maxOrphans, this.now);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The signature cache acceptance fills (shared with the chain and proposals by node/). */
  get sigCache(): SigCache | undefined {
    return this.acceptConfig.sigCache;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** Grows with every addition and removal: a reader (the block producer) sees the pool changed without subscribing. */
  get revision(): number {
    return this.changes;
  }

  get orphanCount(): number {
    return this.orphanage.size;
  }

  /** The orphans held, oldest first (getorphantxs). */
  orphans(): Orphan[] {
    return this.orphanage.all();
  }

  /** A peer left: the orphans only it gave go (Core's EraseForPeer). */
  erasePeerOrphans(peer: number): number {
    return this.orphanage.eraseForPeer(peer);
  }

  has(txid: Uint8Array | string): boolean {
    return this.entries.has(typeof txid === 'string' ? txid : bytesToHex(txid));
  }

  /** By internal-order txid (hex of the internal bytes, as Tx.txid()). */
  get(txid: Uint8Array | string): MempoolEntry | undefined {
    return this.entries.get(typeof txid === 'string' ? txid : bytesToHex(txid));
  }

  all(): MempoolEntry[] {
    return [...this.entries.values()];
  }

  /**
   * Core's PrioritiseTransaction: adds `delta` to the fee the transaction is ranked and admitted
   * by (not the fee it pays); a sum of zero forgets it. Takes effect in the next template.
   */
  prioritise(txid: string, delta: bigint): void {
    const sum = (this.deltas.get(txid) ?? 0n) + delta;
    if (sum === 0n) this.deltas.delete(txid);
    else this.deltas.set(txid, sum);
    this.changes++;
  }

  /** The delta prioritisetransaction set for this txid (internal hex), 0 when none. */
  feeDelta(txid: string): bigint {
    return this.deltas.get(txid) ?? 0n;
  }

  /** Every delta set, by internal txid hex (Core's getprioritisedtransactions). */
  prioritised(): [txid: string, delta: bigint][] {
    return [...this.deltas];
  }

  /** The fee plus its delta: what block templates, eviction and the fee floors rank it by. */
  modifiedFee(e: MempoolEntry): bigint {
    return e.fee + this.feeDelta(e.txid);
  }

  /** The pool transaction spending `outpoint`, if any. */
  spender(outpoint: OutPoint): MempoolEntry | undefined {
    const id = this.spends.get(outpoint.key());
    return id === undefined ? undefined : this.entries.get(id);
  }

  /** Fee rate (per 1,000 bytes) below which nothing is accepted now: relay floor or eviction floor. */
  minFeeRate(): bigint {
    this.decayRollingFee();
    return this.rollingMinFeeRate > this.minRelayFeeRate ? this.rollingMinFeeRate : this.minRelayFeeRate;
  }

  parents(e: MempoolEntry): MempoolEntry[] {
    const out = new Map<string, MempoolEntry>();
    for (const input of e.tx.inputs) {
      const p = this.entries.get(bytesToHex(input.prevout.hash));
      if (p) out.set(p.txid, p);
    }
    return [...out.values()];
  }

  children(e: MempoolEntry): MempoolEntry[] {
    const out: MempoolEntry[] = [];
    const hash = e.tx.txid();
    for (let i = 0; i < e.tx.outputs.length; i++) {
      const c = this.spends.get(new OutPoint(hash, i).key());
      if (c !== undefined) out.push(this.entries.get(c) as MempoolEntry);
    }
    return out;
  }

  /** All in-pool ancestors (not the entry itself). */
  ancestors(e: MempoolEntry): Map<string, MempoolEntry> {
    return this.closure(this.parents(e), (x) => this.parents(x));
  }

  /** All in-pool descendants (not the entry itself). */
  descendants(e: MempoolEntry): Map<string, MempoolEntry> {
    return this.closure(this.children(e), (x) => this.children(x));
  }

  private closure(
    start: MempoolEntry[],
    next: (e: MempoolEntry) => MempoolEntry[],
  ): Map<string, MempoolEntry> {
    const seen = new Map<string, MempoolEntry>();
    const stack = start.slice();
    while (stack.length > 0) {
      const x = stack.pop() as MempoolEntry;
      if (seen.has(x.txid)) continue;
      seen.set(x.txid, x);
      stack.push(...next(x));
    }
    return seen;
  }

  /**
   * Validates `tx` against the tip and the pool and, unless testOnly, adds it. Throws RejectError.
   * A transaction from a peer whose inputs are unknown is kept as an orphan (and rejected with
   * missing-inputs) until a parent arrives; accepting a transaction tries its orphaned children.
   */
  accept(tx: Tx, opts: AcceptOptions = {}): Promise<MempoolEntry> {
    return this.lock.runExclusive(() => this.acceptLocked(tx, opts));
  }

  /**
   * Core's ProcessNewPackage (submitpackage) under the acceptance lock: the package's shape
   * (package.ts), then each transaction on its own; those refused only for their fee rate, or for
   * a parent so refused, are tried together at the package's fee rate (total modified fee over
   * total size, Core's CPFP), all or none. Unlike Core v29, which keeps that for TRUC (v3)
   * transactions, a parent below the min relay fee may enter with its child this way (as Core
   * 26-27). Package members never replace pool transactions; one on its own may (BIP125 as accept).
   */
  acceptPackage(txs: readonly Tx[], opts: { maxFeeRate?: bigint } = {}): Promise<PackageResult> {
    return this.lock.runExclusive(() => this.acceptPackageLocked(txs, opts.maxFeeRate));
  }

  private async acceptPackageLocked(txs: readonly Tx[], maxFeeRate?: bigint): Promise<PackageResult> {
    const ids = txs.map((tx) => bytesToHex(tx.txid()));
    const results = new Map<string, PackageTxResult>();
    const done = (message: string): PackageResult => {
      for (const id of ids) if (!results.has(id)) results.set(id, { kind: 'unevaluated' });
      return { message, results };
    };
    const shape = checkPackage(txs);
    if (shape !== null) return done(shape);
    if (txs.length > 1) {
      if (!isChildWithParents(txs)) return done('package-not-child-with-parents');
      // Every input of the child is a package parent or a confirmed coin (a pool parent must be in the package).
      const parents = new Set(ids.slice(0, -1));
      const outside = txs[txs.length - 1].inputs
        .map((i) => i.prevout)
        .filter((op) => !parents.has(bytesToHex(op.hash)));
      if ((await this.chain.getCoins(outside)).some((c) => c === undefined))
        return done('package-not-child-with-unconfirmed-parents');
    }
    const individual = new Map<string, RejectError>();
    const deferred: Tx[] = [];
    let failed = false;
    for (const [i, tx] of txs.entries()) {
      const inPool = this.entries.get(ids[i]);
      if (inPool) {
        results.set(ids[i], { kind: 'in-pool', entry: inPool });
        continue;
      }
      try {
        const { entry, replaces } = await this.insert(tx, { maxFeeRate });
        this.orphanage.erase(entry.txid);
        await this.processOrphans(entry.tx);
        const effectiveFeeRate = (this.modifiedFee(entry) * 1000n) / BigInt(entry.size);
        results.set(ids[i], {
          kind: 'valid',
          entry,
          effectiveFeeRate,
          includes: [ids[i]],
          replaced: replaces,
        });
      } catch (e) {
        if (!isRejectError(e)) throw e;
        individual.set(ids[i], e);
        const feeOnly = e.reason === PolicyReason.MIN_RELAY_FEE || e.reason === PolicyReason.MEMPOOL_MIN_FEE;
        if (txs.length > 1 && (feeOnly || isMissingInputs(e))) deferred.push(tx);
        else failed = true;
      }
    }
    if (!failed && deferred.length > 0) failed = !(await this.acceptTogether(deferred, results, maxFeeRate));
    for (const [id, error] of individual) if (!results.has(id)) results.set(id, { kind: 'invalid', error });
    return done(failed ? 'transaction failed' : 'success');
  }

  /**
   * Core's AcceptMultipleTransactions: `txs` (sorted, each refused alone for its fee rate or a
   * parent) are checked in order with each parent staged in the pool unannounced, then judged by
   * their total fee rate; all enter (announced) or none (unstaged, nothing told). False when none.
   */
  private async acceptTogether(
    txs: readonly Tx[],
    results: Map<string, PackageTxResult>,
    maxFeeRate?: bigint,
  ): Promise<boolean> {
    const staged: MempoolEntry[] = [];
    const refuse = (tx: Tx, error: RejectError): false => {
      for (const e of staged.reverse()) this.drop(e);
      results.set(bytesToHex(tx.txid()), { kind: 'invalid', error });
      return false;
    };
    for (const tx of txs) {
      try {
        const { entry, replaces } = await this.validate(tx, { bypassFeeChecks: true });
        if (replaces.length > 0)
          return refuse(
            tx,
            policyReject('bip125-replacement-disallowed', 'package replacement is not supported'),
          );
        this.add(entry);
        staged.push(entry);
      } catch (e) {
        if (!isRejectError(e)) throw e;
        return refuse(tx, e);
      }
    }
    const fee = staged.reduce((n, e) => n + this.modifiedFee(e), 0n);
    const size = staged.reduce((n, e) => n + e.size, 0);
    const last = txs[txs.length - 1];
    const relayFloor = feeForSize(this.minRelayFeeRate, size);
    if (fee < relayFloor)
      return refuse(last, policyReject(PolicyReason.MIN_RELAY_FEE, `${fee} < ${relayFloor}`));
    const poolFloor = feeForSize(this.minFeeRate(), size);
    if (fee < poolFloor)
      return refuse(last, policyReject(PolicyReason.MEMPOOL_MIN_FEE, `${fee} < ${poolFloor}`));
    const rate = (fee * 1000n) / BigInt(size);
    if (maxFeeRate !== undefined && fee * 1000n > maxFeeRate * BigInt(size))
      return refuse(last, policyReject(MAX_FEERATE_EXCEEDED, `${rate} > ${maxFeeRate}`));
    const includes = staged.map((e) => e.txid);
    for (const entry of staged) {
      this.emit('accepted', entry);
      this.orphanage.erase(entry.txid);
      results.set(entry.txid, { kind: 'valid', entry, effectiveFeeRate: rate, includes, replaced: [] });
    }
    this.trim();
    let all = true;
    for (const entry of staged)
      if (!this.entries.has(entry.txid)) {
        results.set(entry.txid, { kind: 'invalid', error: policyReject(PolicyReason.MEMPOOL_FULL) });
        all = false;
      }
    for (const entry of staged) if (this.entries.has(entry.txid)) await this.processOrphans(entry.tx);
    return all;
  }

  private async acceptLocked(tx: Tx, opts: AcceptOptions): Promise<MempoolEntry> {
    try {
      const { entry } = await this.insert(tx, opts);
      if (!opts.testOnly) {
        this.orphanage.erase(entry.txid);
        await this.processOrphans(entry.tx);
      }
      return entry;
    } catch (e) {
      if (!opts.testOnly && opts.peer !== undefined && isMissingInputs(e)) this.orphanage.add(tx, opts.peer);
      throw e;
    }
  }

  /** Validates and, unless testOnly, adds one transaction (replacing what it outbids). */
  private async insert(tx: Tx, opts: AcceptOptions): Promise<Validated> {
    const validated = await this.validate(tx, opts);
    const { entry, replaces } = validated;
    if (!opts.testOnly) {
      for (const old of replaces) this.removeOne(old, 'replaced');
      this.add(entry);
      this.trim();
      if (!this.entries.has(entry.txid)) throw policyReject(PolicyReason.MEMPOOL_FULL);
      this.emit('accepted', entry);
    }
    return validated;
  }

  /**
   * The chain may connect a block while the coins are read (removeForBlock does not wait for the
   * lock): then the coins read may be stale, so validation starts again on the new tip.
   */
  private async validate(tx: Tx, opts: AcceptOptions): Promise<Validated> {
    for (;;) {
      const tip = this.chain.tipHeight();
      const v = await validateTx(this, this.acceptConfig, tx, opts);
      if (this.chain.tipHeight() === tip) return v;
    }
  }

  private add(e: MempoolEntry): void {
    this.entries.set(e.txid, e);
    for (const input of e.tx.inputs) this.spends.set(input.prevout.key(), e.txid);
    this.bytes += e.size;
    this.changes++;
  }

  /** Takes an entry out without telling anyone (a staged package member that failed). */
  private drop(e: MempoolEntry): boolean {
    if (!this.entries.delete(e.txid)) return false;
    for (const input of e.tx.inputs) {
      if (this.spends.get(input.prevout.key()) === e.txid) this.spends.delete(input.prevout.key());
    }
    this.bytes -= e.size;
    this.changes++;
    return true;
  }

  private removeOne(e: MempoolEntry, reason: string): void {
    if (this.drop(e)) this.emit('removed', e, reason);
  }

  /** Removes the entry and everything that spends it. */
  removeWithDescendants(e: MempoolEntry, reason: string): void {
    const all = [e, ...this.descendants(e).values()];
    for (const x of all) this.removeOne(x, reason);
  }

  /** A block connected: drop what it confirms and what conflicts with it. */
  removeForBlock(txs: readonly Tx[]): void {
    for (const tx of txs) {
      const mine = this.entries.get(bytesToHex(tx.txid()));
      if (mine) this.removeOne(mine, 'block');
    }
    for (const tx of txs) {
      if (tx.isCoinbase()) continue;
      for (const input of tx.inputs) {
        const id = this.spends.get(input.prevout.key());
        if (id !== undefined) this.removeWithDescendants(this.entries.get(id) as MempoolEntry, 'conflict');
      }
    }
    this.orphanage.eraseForBlock(txs);
    // Core's ClearPrioritisation: a confirmed transaction's delta is done with.
    for (const tx of txs) this.deltas.delete(bytesToHex(tx.txid()));
  }

  /**
   * Resolves once every change to the pool already under way or queued has ended (an acceptance, a
   * reorg's re-acceptance, during which the pool is partly rebuilt). A reader that must not see it
   * half rebuilt, a block template, waits for this first: Core builds templates under the pool's
   * lock, and its reorg refills the pool before the call that caused it returns.
   */
  settled(): Promise<void> {
    return this.lock.runExclusive(() => undefined);
  }

  /**
   * After a reorg: the transactions of disconnected blocks (oldest block first) come back, and
   * everything in the pool is checked again against the new tip (a spent or immature input, a lock
   * no longer satisfied). Returns how many transactions the pool holds afterwards.
   */
  reorganize(disconnectedTxs: readonly Tx[]): Promise<number> {
    return this.lock.runExclusive(() => this.reorganizeLocked(disconnectedTxs));
  }

  private async reorganizeLocked(disconnectedTxs: readonly Tx[]): Promise<number> {
    const previous = [...this.entries.values()].sort((a, b) => a.time - b.time);
    this.entries.clear();
    this.spends.clear();
    this.bytes = 0;
    this.changes++;
    const candidates = [...disconnectedTxs.filter((t) => !t.isCoinbase()), ...previous.map((e) => e.tx)];
    for (const tx of candidates) {
      try {
        await this.acceptLocked(tx, { bypassFeeChecks: true });
      } catch (e) {
        if (!isRejectError(e)) throw e;
      }
    }
    return this.entries.size;
  }

  /**
   * The orphans spending what `parent` creates are tried again, and theirs in turn, still under the
   * acceptance lock (children found through the orphanage's outpoint index). One still missing an
   * input stays; one accepted or refused otherwise leaves the orphanage, a refused one with an
   * 'orphanRejected' event (tx, the peers that gave it, the RejectError).
   */
  private async processOrphans(parent: Tx): Promise<void> {
    const queue = [parent];
    while (queue.length > 0) {
      for (const o of this.orphanage.childrenOf(queue.shift() as Tx)) {
        if (!this.orphanage.has(o.txid)) continue;
        try {
          queue.push((await this.insert(o.tx, {})).entry.tx);
          this.orphanage.erase(o.txid);
        } catch (err) {
          if (!isRejectError(err)) throw err;
          if (isMissingInputs(err)) continue;
          this.orphanage.erase(o.txid);
          // Core's ProcessOrphanTx: p2p scores who gave it and files it as recently rejected.
          this.emit('orphanRejected', o.tx, [...o.from], err);
        }
      }
    }
  }

  hasOrphan(txid: Uint8Array): boolean {
    return this.orphanage.has(bytesToHex(txid));
  }

  /** Package fee rate of an entry with its descendants (what eviction ranks by), per 1,000 bytes. */
  private descendantScore(e: MempoolEntry): bigint {
    let fee = this.modifiedFee(e);
    let size = e.size;
    for (const d of this.descendants(e).values()) {
      fee += this.modifiedFee(d);
      size += d.size;
    }
    return (fee * 1000n) / BigInt(size);
  }

  /** Evicts the lowest-fee-rate packages until the pool fits, raising the rolling floor. */
  private trim(): void {
    while (this.bytes > this.maxBytes && this.entries.size > 0) {
      let worst: MempoolEntry | undefined;
      let worstScore = 0n;
      for (const e of this.entries.values()) {
        const s = this.descendantScore(e);
        if (!worst || s < worstScore) {
          worst = e;
          worstScore = s;
        }
      }
      const w = worst as MempoolEntry;
      // Anything new must now pay more than what was evicted (Core adds the incremental relay fee).
      const floor = worstScore + this.minRelayFeeRate;
      if (floor > this.rollingMinFeeRate) this.rollingMinFeeRate = floor;
      this.lastRollingUpdate = this.now();
      this.removeWithDescendants(w, 'sizelimit');
    }
  }

  /** The eviction floor halves every 12 hours (Core's ROLLING_FEE_HALFLIFE), faster when the pool is small. */
  private decayRollingFee(): void {
    if (this.rollingMinFeeRate === 0n) return;
    const elapsed = this.now() - this.lastRollingUpdate;
    if (elapsed < 10) return;
    let halflife = 12 * 3600;
    if (this.bytes < this.maxBytes / 4) halflife /= 4;
    else if (this.bytes < this.maxBytes / 2) halflife /= 2;
    const factor = Math.pow(2, elapsed / halflife);
    this.rollingMinFeeRate = BigInt(Math.floor(Number(this.rollingMinFeeRate) / factor));
    this.lastRollingUpdate = this.now();
    if (this.rollingMinFeeRate < this.minRelayFeeRate / 2n) this.rollingMinFeeRate = 0n;
  }
}

function isMissingInputs(e: unknown): boolean {
  return isRejectError(e) && e.reason === PolicyReason.MISSING_INPUTS;
}

export { RejectError };

// The transaction pool: unconfirmed transactions valid against the tip's UTXO set plus their
// unconfirmed parents, kept within a byte budget. Owns acceptance (consensus rules first, then
// policy), the spend index that finds conflicts, orphans, eviction and following the chain.
// Does not own storage of the UTXO set (reached through MempoolChain) or relay.
// Acceptance is serialised (one mutex, Core's cs_main around AcceptToMemoryPool): transactions
// from P2P, RPC, the wallet and mempool.dat enter one at a time, so a conflict check and the
// insertion it justifies never straddle an await that lets another acceptance in.
// A transaction spending what pool transactions spend replaces them when it pays more (Core's
// full RBF, replacement.ts): the evictions and the insertion are one step under the same lock.
// Fails by throwing RejectError: category 'consensus' for an invalid transaction (a peer that sent
// it is scored), 'policy' for one this node merely does not want.
import { EventEmitter } from 'node:events';
import { Mutex } from 'async-mutex';
import { Reason, RejectError, consensusError, isRejectError } from '../consensus/errors.js';
import { checkTransaction } from '../consensus/tx-check.js';
import {
  type Coin,
  calculateSequenceLocks,
  checkSequenceLocks,
  checkTxInputs,
  isFinalTx,
} from '../consensus/tx-verify.js';
import { OutPoint, type Tx, TxOut } from '../primitives/tx.js';
import { bytesToHex } from '../primitives/bytes.js';
import { ScriptError } from '../script/errors.js';
import { MANDATORY_SCRIPT_FLAGS, STANDARD_SCRIPT_FLAGS } from '../script/flags.js';
import { verifyInput } from '../script/interpreter.js';
import type { SigCache } from '../script/sigcache.js';
import { getLegacySigOpCount, getP2SHSigOpCount } from '../script/sigops.js';
import {
  DEFAULT_ANCESTOR_LIMIT,
  DEFAULT_DESCENDANT_LIMIT,
  DEFAULT_INCREMENTAL_RELAY_FEE_RATE,
  DEFAULT_MIN_RELAY_FEE_RATE,
  MAX_STANDARD_TX_SIGOPS,
  PolicyReason,
  checkInputsStandard,
  checkStandardTx,
  feeForSize,
  policyReject,
} from './policy.js';
import { type Orphan, Orphanage } from './orphanage.js';
import { checkReplacement } from './replacement.js';
import { checkPackage, isChildWithParents } from './package.js';

/** What the pool needs from the chain: the tip, its clock, and confirmed coins in batches. */
export interface MempoolChain {
  tipHeight(): number;
  /** Median time past of the tip (BIP113 cut-off for the next block). */
  tipMedianTimePast(): number;
  /** Median time past of the block at `height` on the active chain (BIP68 time locks). */
  medianTimePastAt(height: number): number;
  /** Unspent confirmed coins, one batched read. */
  getCoins(outpoints: readonly OutPoint[]): Promise<(Coin | undefined)[]>;
}

export interface MempoolParams {
  coinbaseMaturity: number;
  csvHeight: number;
}

export interface MempoolOptions {
  chain: MempoolChain;
  params: MempoolParams;
  /** Byte budget of the pool (Core's -maxmempool, default 300 MB). */
  maxBytes?: number;
  /** Base units per 1,000 bytes. */
  minRelayFeeRate?: bigint;
  /** What a replacement pays for its own relay, base units per 1,000 bytes (Core's -incrementalrelayfee). */
  incrementalRelayFeeRate?: bigint;
  ancestorLimit?: number;
  descendantLimit?: number;
  /** Orphan transactions kept (Core's -maxorphantx, default 100; orphanage.ts). */
  maxOrphans?: number;
  sigCache?: SigCache;
  /** Told of every transaction whose scripts passed with the given flags (the chain can skip it later). */
  onScriptsVerified?: (txid: Uint8Array, flags: number) => void;
  now?: () => number;
}

export interface MempoolEntry {
  readonly tx: Tx;
  readonly txid: string;
  readonly fee: bigint;
  readonly size: number;
  /** Seconds since the epoch when it entered. */
  readonly time: number;
  /** Tip height when it entered. */
  readonly height: number;
  readonly sigops: number;
}

export interface AcceptOptions {
  /** Run every check but do not add it (testmempoolaccept). */
  testOnly?: boolean;
  /** Skip the fee floors (re-adding transactions of a disconnected block). */
  bypassFeeChecks?: boolean;
  /** Entry time to record (restoring a saved pool); defaults to now. */
  time?: number;
  /**
   * The peer that sent it (p2p's id): a transaction missing inputs is kept as an orphan only then,
   * as Core keeps none from RPC.
   */
  peer?: number;
  /** Refuse a fee rate above this, base units per 1,000 bytes (Core's client maxfeerate; submitpackage). */
  maxFeeRate?: bigint;
}

/** One transaction's outcome in acceptPackage (Core's MempoolAcceptResult). */
export type PackageTxResult =
  | {
      kind: 'valid';
      entry: MempoolEntry;
      /** Modified fee per 1,000 bytes it was judged by: its own, or its package's. */
      effectiveFeeRate: bigint;
      /** Internal txid hex of the transactions whose fees and sizes made that rate. */
      includes: string[];
      replaced: MempoolEntry[];
    }
  | { kind: 'in-pool'; entry: MempoolEntry }
  | { kind: 'invalid'; error: RejectError }
  | { kind: 'unevaluated' };

/** acceptPackage's answer: Core's package_msg and each transaction's result by internal txid hex. */
export interface PackageResult {
  message: string;
  results: Map<string, PackageTxResult>;
}

/** Core's client-side cap (submitpackage, testmempoolaccept): a policy refusal. */
const MAX_FEERATE_EXCEEDED = 'max feerate exceeded';

/** A validated transaction and the pool entries it replaces. */
interface Validated {
  entry: MempoolEntry;
  replaces: MempoolEntry[];
}

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
  private readonly params: MempoolParams;
  readonly maxBytes: number;
  readonly minRelayFeeRate: bigint;
  readonly incrementalRelayFeeRate: bigint;
  private readonly ancestorLimit: number;
  private readonly descendantLimit: number;
  private readonly now: () => number;
  /**
   * Core's mapDeltas: fee deltas set by prioritisetransaction (internal txid hex -> base units),
   * kept for transactions not yet in the pool and dropped when a block confirms them. Only the
   * operator's RPC adds to it, as in Core, so it is not bounded by what peers send.
   */
  private readonly deltas = new Map<string, bigint>();
  /** Held by every acceptance and by reorganize(): one change to the pool at a time. */
  private readonly lock = new Mutex();

  constructor(private readonly opts: MempoolOptions) {
    super();
    this.chain = opts.chain;
    this.params = opts.params;
    this.maxBytes = opts.maxBytes ?? 300_000_000;
    this.minRelayFeeRate = opts.minRelayFeeRate ?? DEFAULT_MIN_RELAY_FEE_RATE;
    this.incrementalRelayFeeRate = opts.incrementalRelayFeeRate ?? DEFAULT_INCREMENTAL_RELAY_FEE_RATE;
    this.ancestorLimit = opts.ancestorLimit ?? DEFAULT_ANCESTOR_LIMIT;
    this.descendantLimit = opts.descendantLimit ?? DEFAULT_DESCENDANT_LIMIT;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.orphanage = new Orphanage(opts.maxOrphans, this.now);
  }

  get size(): number {
    return this.entries.size;
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
      const v = await this.validateOnce(tx, opts);
      if (this.chain.tipHeight() === tip) return v;
    }
  }

  private async validateOnce(tx: Tx, opts: AcceptOptions): Promise<Validated> {
    checkTransaction(tx);
    if (tx.isCoinbase()) throw new RejectError(PolicyReason.COINBASE, 'consensus', { dos: 100 });
    checkStandardTx(tx);
    const tipHeight = this.chain.tipHeight();
    const height = tipHeight + 1;
    const mtp = this.chain.tipMedianTimePast();
    if (!isFinalTx(tx, height, mtp)) throw policyReject(PolicyReason.NON_FINAL);
    const txid = bytesToHex(tx.txid());
    if (this.entries.has(txid)) throw policyReject(PolicyReason.ALREADY_IN_MEMPOOL);
    // Pool transactions spending the same coins: replaced if this one pays enough (below).
    const conflicts = new Set<string>();
    for (const input of tx.inputs) {
      const other = this.spends.get(input.prevout.key());
      if (other !== undefined) conflicts.add(other);
    }

    // Coins: unconfirmed parents from the pool, the rest from the chain in one batch.
    const coins = new Map<string, Coin>();
    const fromChain: OutPoint[] = [];
    for (const input of tx.inputs) {
      const parent = this.entries.get(bytesToHex(input.prevout.hash));
      if (parent) {
        const out = parent.tx.outputs[input.prevout.index];
        if (!out)
          throw consensusError(Reason.INPUTS_MISSINGORSPENT, `no output ${input.prevout.index} in ${txid}`);
        coins.set(input.prevout.key(), {
          value: out.value,
          script: out.scriptPubKey,
          height,
          coinbase: false,
        });
      } else fromChain.push(input.prevout);
    }
    const selfOutpoints = tx.outputs.map((_, i) => new OutPoint(tx.txid(), i));
    const found = await this.chain.getCoins([...fromChain, ...selfOutpoints]);
    // A block connected during the read may have removed a pool parent (confirmed or conflicted).
    for (const input of tx.inputs) {
      const key = input.prevout.key();
      if (coins.has(key) && !this.entries.has(bytesToHex(input.prevout.hash)))
        throw policyReject(PolicyReason.MISSING_INPUTS, key);
    }
    const missing: string[] = [];
    fromChain.forEach((op, i) => {
      const c = found[i];
      if (c) coins.set(op.key(), c);
      else missing.push(op.key());
    });
    if (missing.length > 0) {
      // Core: if the transaction's own outputs are already in the UTXO set, it is confirmed.
      if (found.slice(fromChain.length).some((c) => c !== undefined))
        throw policyReject(PolicyReason.ALREADY_KNOWN);
      throw policyReject(PolicyReason.MISSING_INPUTS, missing.join(', '));
    }

    const prevHeights = tx.inputs.map((i) => (coins.get(i.prevout.key()) as Coin).height);
    const locks = calculateSequenceLocks(
      tx,
      prevHeights,
      (h) => this.chain.medianTimePastAt(h),
      height >= this.params.csvHeight,
    );
    checkSequenceLocks(locks, height, mtp, 'mempool');

    const view = { getCoin: (op: OutPoint) => coins.get(op.key()) };
    const fee = checkTxInputs(tx, view, height, this.params);
    const prevScripts = tx.inputs.map((i) => (coins.get(i.prevout.key()) as Coin).script);
    checkInputsStandard(tx, prevScripts);
    const sigops = getLegacySigOpCount(tx) + getP2SHSigOpCount(tx, prevScripts);
    if (sigops > MAX_STANDARD_TX_SIGOPS) throw policyReject(PolicyReason.TOO_MANY_SIGOPS, `${sigops}`);

    const size = tx.size;
    // Core checks the modified fee: a prioritised transaction may enter below the floors, replace
    // what it would not replace on its fee alone, or resist a replacement.
    const modified = fee + this.feeDelta(txid);
    if (!opts.bypassFeeChecks) {
      const relayFloor = feeForSize(this.minRelayFeeRate, size);
      if (modified < relayFloor)
        throw policyReject(PolicyReason.MIN_RELAY_FEE, `${modified} < ${relayFloor}`);
      const poolFloor = feeForSize(this.minFeeRate(), size);
      if (modified < poolFloor)
        throw policyReject(PolicyReason.MEMPOOL_MIN_FEE, `${modified} < ${poolFloor}`);
    }
    if (opts.maxFeeRate !== undefined && modified * 1000n > opts.maxFeeRate * BigInt(size))
      throw policyReject(MAX_FEERATE_EXCEEDED, `${(modified * 1000n) / BigInt(size)} > ${opts.maxFeeRate}`);

    const entry: MempoolEntry = {
      tx,
      txid,
      fee,
      size,
      time: opts.time ?? this.now(),
      height: tipHeight,
      sigops,
    };
    const ancestors = this.ancestors(entry);
    // The conflicts are read again: the coin read above awaited (only a new tip, which restarts
    // validation, can change the pool then, but a missing entry must not be evicted twice).
    const direct = [...conflicts].map((id) => this.entries.get(id)).filter((e) => e !== undefined);
    const replaces =
      direct.length === 0
        ? []
        : checkReplacement(this, tx, modified, size, direct, ancestors, this.incrementalRelayFeeRate);
    this.checkPackageLimits(ancestors);
    this.checkScripts(tx, coins);
    return { entry, replaces };
  }

  private checkPackageLimits(ancestors: Map<string, MempoolEntry>): void {
    if (ancestors.size + 1 > this.ancestorLimit) {
      throw policyReject(
        PolicyReason.TOO_LONG_CHAIN,
        `too many unconfirmed ancestors [limit: ${this.ancestorLimit}]`,
      );
    }
    for (const a of ancestors.values()) {
      if (this.descendants(a).size + 2 > this.descendantLimit) {
        throw policyReject(
          PolicyReason.TOO_LONG_CHAIN,
          `too many descendants for tx ${a.txid} [limit: ${this.descendantLimit}]`,
        );
      }
    }
  }

  /**
   * Scripts under policy flags; a failure that the consensus flags alone would also produce makes
   * the transaction invalid (scored), otherwise it is only non-standard (Core's two-pass check).
   */
  private checkScripts(tx: Tx, coins: Map<string, Coin>): void {
    const outs = tx.inputs.map((i) => {
      const c = coins.get(i.prevout.key()) as Coin;
      return new TxOut(c.value, c.script);
    });
    for (let i = 0; i < tx.inputs.length; i++) {
      try {
        verifyInput(tx, i, outs[i], STANDARD_SCRIPT_FLAGS, this.opts.sigCache);
      } catch (e) {
        if (!(e instanceof ScriptError)) throw e;
        try {
          verifyInput(tx, i, outs[i], MANDATORY_SCRIPT_FLAGS, this.opts.sigCache);
        } catch (e2) {
          if (!(e2 instanceof ScriptError)) throw e2;
          throw consensusError(`mandatory-script-verify-flag-failed (${e2.code})`, `input ${i}`);
        }
        throw policyReject(`non-mandatory-script-verify-flag (${e.code})`, `input ${i}`);
      }
    }
    this.opts.onScriptsVerified?.(tx.txid(), STANDARD_SCRIPT_FLAGS);
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

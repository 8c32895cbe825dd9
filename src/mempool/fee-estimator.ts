// Fee estimation from what this node saw confirm, after Bitcoin Core's CBlockPolicyEstimator
// (policy/fees.cpp), reduced to one time horizon. Owns: the statistics. Does not own the pool
// or the chain: the node calls processBlock for each newly connected block while the block's
// transactions are still in the pool. Never throws on input; estimate() answers null when it has
// too little data.
//
// How it works. Fee rates (base units per 1000 bytes) are grouped into buckets spaced by a factor
// of 1.05 from 1,000 up to 10^7. For every pool transaction a block confirms, the bucket records
// how many blocks it waited (block height - tip height when it entered, so 1 = the next block).
// Counts decay by 0.998 per block so old behaviour fades (a half-life of about 350 blocks); the
// decay is applied lazily (new counts weigh more instead of old ones shrinking) so a block costs
// time in proportion to its transactions and the pool, not to the size of the tables.
// Transactions still in the pool are counted, by age, from the latest block: one that has already
// waited longer than a target counts as a failure for that target.
// estimate(target) walks the buckets from the highest fee rate down, gathering buckets into a range
// until the range holds enough transactions; a range whose transactions confirmed within `target`
// blocks at least 85% of the time passes and the walk goes on to cheaper buckets; the first range
// that fails ends it. The answer is the average fee rate of the last passing range's median bucket.
import type { Tx } from '../primitives/tx.js';
import { bytesToHex } from '../primitives/bytes.js';
import type { Mempool, MempoolEntry } from './mempool.js';

export interface FeeEstimatorOptions {
  /** Longest confirmation target tracked, in blocks (Core: 1008). */
  maxBlocks?: number;
  /** Per-block decay of old data. */
  decay?: number;
  /** Share of transactions that must confirm within the target. */
  successThreshold?: number;
  /** Decayed transactions a bucket range needs before it is judged. */
  minTransactions?: number;
}

export interface FeeEstimate {
  /** Base units per 1000 bytes. */
  feerate: bigint;
  /** The target the estimate is for (can be larger than asked when the history is short). */
  blocks: number;
}

const MIN_BUCKET = 1000;
const MAX_BUCKET = 1e7;
const SPACING = 1.05;

export class FeeEstimator {
  readonly maxBlocks: number;
  private readonly decay: number;
  private readonly threshold: number;
  private readonly minTxs: number;
  /** Upper bounds of the buckets; the last is Infinity. */
  private readonly bounds: number[] = [];
  /**
   * confirmed[b][w]: bucket-b transactions that confirmed after w+1 blocks, each added with the
   * weight current at its block (divide by `weight` for the decayed count).
   */
  private readonly confirmed: number[][];
  /** Weighted totals of confirmed transactions and of their fee rates, per bucket. */
  private readonly total: number[];
  private readonly feeSum: number[];
  /** Weight of a transaction confirmed now: 1 / decay^(blocks seen), renormalised before it overflows. */
  private weight = 1;
  /** Bucket -> how many blocks each pool transaction of that bucket had waited at the last block. */
  private unconfirmed = new Map<number, number[]>();
  private bestHeight = -1;
  private firstHeight = -1;

  constructor(opts: FeeEstimatorOptions = {}) {
    this.maxBlocks = Math.max(1, Math.floor(opts.maxBlocks ?? 1008));
    this.decay = opts.decay ?? 0.998;
    this.threshold = opts.successThreshold ?? 0.85;
    this.minTxs = opts.minTransactions ?? 5;
    for (let b = MIN_BUCKET; b < MAX_BUCKET; b *= SPACING) this.bounds.push(b);
    this.bounds.push(Infinity);
    this.confirmed = this.bounds.map(() => new Array<number>(this.maxBlocks).fill(0));
    this.total = this.bounds.map(() => 0);
    this.feeSum = this.bounds.map(() => 0);
  }

  /** Blocks of history seen. */
  get blocksTracked(): number {
    return this.bestHeight < 0 ? 0 : this.bestHeight - this.firstHeight + 1;
  }

  private bucketOf(feeRate: number): number {
    // Binary search for the first bound >= feeRate.
    let lo = 0;
    let hi = this.bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.bounds[mid] >= feeRate) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private static rate(e: MempoolEntry): number {
    return e.size > 0 ? (Number(e.fee) * 1000) / e.size : 0;
  }

  /**
   * A block was connected at `height`; `mempool` still holds its transactions. Blocks at or below
   * a height already seen (reorgs, replays) are ignored, as Core does.
   */
  processBlock(height: number, txs: readonly Tx[], mempool: Pick<Mempool, 'get' | 'all'>): void {
    if (height <= this.bestHeight) return;
    if (this.firstHeight < 0) this.firstHeight = height;
    this.bestHeight = height;
    this.weight /= this.decay;
    if (this.weight > 1e100) this.renormalise();
    const inBlock = new Set<string>();
    for (const tx of txs) {
      if (tx.isCoinbase()) continue;
      const id = bytesToHex(tx.txid());
      inBlock.add(id);
      const e = mempool.get(id);
      if (e === undefined) continue;
      const waited = height - e.height;
      if (waited < 1) continue;
      const rate = FeeEstimator.rate(e);
      const b = this.bucketOf(rate);
      this.confirmed[b][Math.min(waited, this.maxBlocks) - 1] += this.weight;
      this.total[b] += this.weight;
      this.feeSum[b] += rate * this.weight;
    }
    this.unconfirmed = new Map();
    for (const e of mempool.all()) {
      if (inBlock.has(e.txid)) continue;
      const b = this.bucketOf(FeeEstimator.rate(e));
      const ages = this.unconfirmed.get(b);
      if (ages === undefined) this.unconfirmed.set(b, [height - e.height]);
      else ages.push(height - e.height);
    }
  }

  private renormalise(): void {
    const k = 1 / this.weight;
    for (let b = 0; b < this.bounds.length; b++) {
      this.total[b] *= k;
      this.feeSum[b] *= k;
      const row = this.confirmed[b];
      for (let w = 0; w < row.length; w++) row[w] *= k;
    }
    this.weight = 1;
  }

  /** Decayed counts of bucket b: [confirmed within target, judged (confirmed + overdue unconfirmed)]. */
  private counts(b: number, target: number): [number, number] {
    if (this.total[b] === 0 && !this.unconfirmed.has(b)) return [0, 0];
    let within = 0;
    for (let w = 0; w < target; w++) within += this.confirmed[b][w];
    let overdue = 0;
    for (const age of this.unconfirmed.get(b) ?? []) if (age >= target) overdue++;
    return [within / this.weight, this.total[b] / this.weight + overdue];
  }

  /**
   * The lowest fee rate whose transactions confirmed within `confTarget` blocks with the success
   * threshold, or null without enough data. Targets are limited to half the history seen (as
   * Core's MaxUsableEstimate) and a target of 1 is answered for 2 (no estimate is that sure).
   */
  estimate(confTarget: number): FeeEstimate | null {
    const usable = Math.min(this.maxBlocks, Math.floor(this.blocksTracked / 2));
    let target = Math.max(2, Math.floor(confTarget));
    if (target > usable) target = usable;
    if (target < 2) return null;
    let best: [number, number] | null = null; // bucket range [low, high] that passed last
    let within = 0;
    let judged = 0;
    let high = this.bounds.length - 1;
    for (let b = this.bounds.length - 1; b >= 0; b--) {
      const [w, j] = this.counts(b, target);
      within += w;
      judged += j;
      if (judged < this.minTxs) continue;
      if (within / judged < this.threshold) break;
      best = [b, high];
      within = 0;
      judged = 0;
      high = b - 1;
    }
    if (best === null) return null;
    const feerate = this.medianRate(best[0], best[1]);
    return feerate === null ? null : { feerate: BigInt(Math.ceil(feerate)), blocks: target };
  }

  /** Average fee rate of the bucket holding the median confirmed transaction of [low, high]. */
  private medianRate(low: number, high: number): number | null {
    let count = 0;
    for (let b = low; b <= high; b++) count += this.total[b];
    let seen = 0;
    for (let b = low; b <= high; b++) {
      seen += this.total[b];
      if (this.total[b] > 0 && seen >= count / 2) return this.feeSum[b] / this.total[b];
    }
    return null;
  }
}

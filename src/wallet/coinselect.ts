// Coin selection. First Bitcoin Core's branch-and-bound (a changeless input set whose effective
// value lands within the cost of change above the target, least waste first), then two fallbacks
// that make change (largest-first accumulation, and the smallest single coin that covers the
// payment), keeping the one with the least waste. Fee rates are in base units per 1000 bytes
// (no segwit: a vbyte is a byte). Fails with InsufficientFundsError when even every coin is short.

export interface Candidate {
  /** Outpoint key, opaque here. */
  id: string;
  value: bigint;
  /** Serialized size of the input that spends it (a P2PKH input is at most 149 bytes). */
  inputSize: number;
}

export interface SelectionParams {
  /** Sum of the payment outputs. */
  target: bigint;
  /** Base units per 1000 bytes. */
  feeRatePerKb: bigint;
  /** Fee rate expected when change is spent later (Core's long-term fee rate); default feeRatePerKb. */
  longTermFeeRatePerKb?: bigint;
  /** Transaction size without inputs and without change: version, locktime, counts, outputs. */
  baseSize: number;
  changeOutputSize: number;
  changeSpendSize: number;
  /** Change below this is dropped into the fee. */
  dustThreshold: bigint;
  maxTries?: number;
  /**
   * The inputs' sizes may sum to at most this (Core's max_selection_weight / 4, from
   * max_tx_weight); a set over it is not chosen, and SelectionWeightError when every set is.
   */
  maxInputsSize?: number;
}

export interface Selection {
  inputs: Candidate[];
  fee: bigint;
  /** Change amount; 0n when there is no change output. */
  change: bigint;
  waste: bigint;
  algorithm: 'bnb' | 'largest-first' | 'single-coin';
}

export class InsufficientFundsError extends Error {
  constructor(
    readonly needed: bigint,
    readonly available: bigint,
  ) {
    super('Insufficient funds');
    this.name = 'InsufficientFundsError';
  }
}

/** Every set of coins that would pay is over the weight limit (Core's ErrorMaxWeightExceeded). */
export class SelectionWeightError extends Error {
  constructor() {
    super(
      "The inputs size exceeds the maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs",
    );
    this.name = 'SelectionWeightError';
  }
}

export const P2PKH_INPUT_SIZE = 149;
export const P2PKH_OUTPUT_SIZE = 34;
export const DUST_THRESHOLD = 546n;
export const BNB_MAX_TRIES = 100_000;

/** Fee for `size` bytes at `ratePerKb`, rounded up as Core's CFeeRate::GetFee. */
export function feeFor(size: number, ratePerKb: bigint): bigint {
  const n = ratePerKb * BigInt(size);
  return (n + 999n) / 1000n;
}

interface Utxo {
  c: Candidate;
  eff: bigint;
  fee: bigint;
  longFee: bigint;
}

/**
 * Core's SelectCoinsBnB: depth-first over coins sorted by effective value, inclusion branch
 * first, pruning branches that cannot reach the target, overshoot target + costOfChange, or
 * are already more wasteful (when fees are above the long-term rate). Returns indices or null.
 */
export function branchAndBound(
  pool: Utxo[],
  selectionTarget: bigint,
  costOfChange: bigint,
  maxTries = BNB_MAX_TRIES,
  maxSize = Infinity,
): number[] | null {
  let currValue = 0n;
  let currSize = 0;
  let currWaste = 0n;
  let available = pool.reduce((s, u) => s + u.eff, 0n);
  if (available < selectionTarget) return null;
  const selection: number[] = [];
  let best: number[] | null = null;
  let bestWaste = 0n;
  const feeRateHigh = pool.length > 0 && pool[0].fee > pool[0].longFee;
  for (let tries = 0, i = 0; tries < maxTries; tries++, i++) {
    let backtrack = false;
    if (
      currValue + available < selectionTarget ||
      currValue > selectionTarget + costOfChange ||
      currSize > maxSize ||
      (best !== null && currWaste > bestWaste && feeRateHigh)
    ) {
      backtrack = true;
    } else if (currValue >= selectionTarget) {
      const waste = currWaste + (currValue - selectionTarget);
      if (best === null || waste <= bestWaste) {
        best = [...selection];
        bestWaste = waste;
      }
      backtrack = true;
    }
    if (backtrack) {
      if (selection.length === 0) break;
      const last = selection[selection.length - 1];
      for (i--; i > last; i--) available += pool[i].eff;
      currValue -= pool[i].eff;
      currSize -= pool[i].c.inputSize;
      currWaste -= pool[i].fee - pool[i].longFee;
      selection.pop();
    } else {
      const u = pool[i];
      available -= u.eff;
      const prev = pool[i - 1];
      // Skip an excluded coin's twin: same value and fee give the same subtrees.
      if (
        selection.length === 0 ||
        i - 1 === selection[selection.length - 1] ||
        u.eff !== prev.eff ||
        u.fee !== prev.fee
      ) {
        selection.push(i);
        currValue += u.eff;
        currSize += u.c.inputSize;
        currWaste += u.fee - u.longFee;
      }
    }
  }
  return best;
}

export function selectCoins(candidates: Candidate[], p: SelectionParams): Selection {
  const longRate = p.longTermFeeRatePerKb ?? p.feeRatePerKb;
  const pool: Utxo[] = candidates
    .map((c) => {
      const fee = feeFor(c.inputSize, p.feeRatePerKb);
      return { c, eff: c.value - fee, fee, longFee: feeFor(c.inputSize, longRate) };
    })
    .filter((u) => u.eff > 0n)
    .sort((a, b) => (a.eff === b.eff ? (a.c.id < b.c.id ? -1 : 1) : a.eff > b.eff ? -1 : 1));
  const selectionTarget = p.target + feeFor(p.baseSize, p.feeRatePerKb);
  const changeFee = feeFor(p.changeOutputSize, p.feeRatePerKb);
  const costOfChange = changeFee + feeFor(p.changeSpendSize, longRate);
  const available = pool.reduce((s, u) => s + u.eff, 0n);
  if (available < selectionTarget) throw new InsufficientFundsError(selectionTarget, available);

  const inputWaste = (us: Utxo[]) => us.reduce((s, u) => s + u.fee - u.longFee, 0n);
  const finish = (us: Utxo[], algorithm: Selection['algorithm']): Selection => {
    const value = us.reduce((s, u) => s + u.c.value, 0n);
    const eff = us.reduce((s, u) => s + u.eff, 0n);
    const excess = eff - selectionTarget;
    const change = excess - changeFee;
    if (algorithm !== 'bnb' && change >= p.dustThreshold) {
      return {
        inputs: us.map((u) => u.c),
        fee: value - p.target - change,
        change,
        waste: inputWaste(us) + costOfChange,
        algorithm,
      };
    }
    return {
      inputs: us.map((u) => u.c),
      fee: value - p.target,
      change: 0n,
      waste: inputWaste(us) + excess,
      algorithm,
    };
  };

  const maxSize = p.maxInputsSize ?? Infinity;
  const bnb = branchAndBound(pool, selectionTarget, costOfChange, p.maxTries, maxSize);
  if (bnb !== null)
    return finish(
      bnb.map((i) => pool[i]),
      'bnb',
    );

  const results: Selection[] = [];
  const wanted = selectionTarget + changeFee + p.dustThreshold;
  const largest: Utxo[] = [];
  let sum = 0n;
  for (const u of pool) {
    largest.push(u);
    sum += u.eff;
    if (sum >= wanted) break;
  }
  results.push(finish(largest, 'largest-first'));
  for (let i = pool.length - 1; i >= 0; i--) {
    if (pool[i].eff >= wanted && pool[i].c.inputSize <= maxSize) {
      results.push(finish([pool[i]], 'single-coin'));
      break;
    }
  }
  // The change-making sets count the change output against the limit too, as Core's.
  const fits = (s: Selection) =>
    s.inputs.reduce((n, c) => n + c.inputSize, 0) + (s.change > 0n ? p.changeOutputSize : 0) <= maxSize;
  const within = results.filter(fits);
  if (within.length === 0) throw new SelectionWeightError();
  // Least waste; on a tie fewer inputs, then the smaller total so large coins stay whole.
  const total = (s: Selection) => s.inputs.reduce((t, c) => t + c.value, 0n);
  within.sort((a, b) => {
    if (a.waste !== b.waste) return a.waste < b.waste ? -1 : 1;
    if (a.inputs.length !== b.inputs.length) return a.inputs.length - b.inputs.length;
    return total(a) === total(b) ? 0 : total(a) < total(b) ? -1 : 1;
  });
  return within[0];
}

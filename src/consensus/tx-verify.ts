// Transaction rules that need context: the coins a transaction spends (Core's CheckTxInputs),
// lock time finality (IsFinalTx, with BIP113's median-time-past cutoff chosen by the caller),
// BIP68 relative lock times (CalculateSequenceLocks / EvaluateSequenceLocks) and BIP30.
// Scripts are not run here (script/ and the chain's verify pool do that). Throws RejectError.
import { OutPoint, type Tx } from '../primitives/tx.js';
import { moneyRange } from './amount.js';
import { Reason, RejectError, consensusError } from './errors.js';

/** An unspent output as the UTXO set stores it. */
export interface Coin {
  value: bigint;
  script: Uint8Array;
  /** Height of the block that created it. */
  height: number;
  coinbase: boolean;
}

/** Read access to unspent coins; undefined means missing or already spent. */
export interface CoinView {
  getCoin(outpoint: OutPoint): Coin | undefined;
}

/** The parameter fields these rules read; ChainParams satisfies it. */
export interface MaturityParams {
  coinbaseMaturity: number;
}

/**
 * Checks that every input exists, that spent coinbases are mature and that the amounts add up;
 * returns the fee. spendHeight is the height of the block the transaction goes into (for the
 * mempool: tip height + 1). Not for coinbases, which spend nothing.
 */
export function checkTxInputs(tx: Tx, view: CoinView, spendHeight: number, params: MaturityParams): bigint {
  const coins: Coin[] = [];
  for (let i = 0; i < tx.inputs.length; i++) {
    const coin = view.getCoin(tx.inputs[i].prevout);
    if (!coin) throw consensusError(Reason.INPUTS_MISSINGORSPENT, `input ${i} ${tx.inputs[i].prevout.key()}`);
    coins.push(coin);
  }
  let valueIn = 0n;
  for (let i = 0; i < coins.length; i++) {
    const coin = coins[i];
    if (coin.coinbase && spendHeight - coin.height < params.coinbaseMaturity) {
      throw consensusError(
        Reason.PREMATURE_SPEND_OF_COINBASE,
        `input ${i}: tried to spend coinbase at depth ${spendHeight - coin.height}`,
      );
    }
    valueIn += coin.value;
    if (!moneyRange(coin.value) || !moneyRange(valueIn)) {
      throw consensusError(Reason.INPUTVALUES_OUTOFRANGE, `input ${i}`);
    }
  }
  let valueOut = 0n;
  for (const o of tx.outputs) valueOut += o.value;
  if (valueIn < valueOut) {
    throw consensusError(Reason.IN_BELOWOUT, `value in ${valueIn} < value out ${valueOut}`);
  }
  const fee = valueIn - valueOut;
  if (!moneyRange(fee)) throw consensusError(Reason.FEE_OUTOFRANGE, `fee ${fee}`);
  return fee;
}

/** Lock times below this are block heights, at or above it Unix times. */
export const LOCKTIME_THRESHOLD = 500_000_000;
export const SEQUENCE_FINAL = 0xffffffff;

/**
 * Core's IsFinalTx. `time` is the cutoff the caller picked: since BIP113 the median time past of
 * the previous block, before it the block's own time (see lockTimeCutoff).
 */
export function isFinalTx(tx: Tx, height: number, time: number): boolean {
  if (tx.locktime === 0) return true;
  if (tx.locktime < (tx.locktime < LOCKTIME_THRESHOLD ? height : time)) return true;
  return tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL);
}

/** BIP113: once active, lock times compare against the median time past, not the block time. */
export function lockTimeCutoff(
  height: number,
  blockTime: number,
  prevMedianTimePast: number,
  params: { csvHeight: number },
): number {
  return height >= params.csvHeight ? prevMedianTimePast : blockTime;
}

// BIP68 fields of nSequence.
export const SEQUENCE_LOCKTIME_DISABLE_FLAG = 0x80000000;
export const SEQUENCE_LOCKTIME_TYPE_FLAG = 0x00400000;
export const SEQUENCE_LOCKTIME_MASK = 0x0000ffff;
/** Time-based relative locks count in units of 512 seconds. */
export const SEQUENCE_LOCKTIME_GRANULARITY = 9;

export interface SequenceLocks {
  /** The last height at which the transaction is still locked (-1: none). */
  minHeight: number;
  /** The last median time past at which the transaction is still locked (-1: none). */
  minTime: number;
}

/**
 * BIP68 (Core's CalculateSequenceLocks). prevHeights[i] is the height of the block that created
 * input i's coin (for a coin still in the mempool: the height the spend would be mined at).
 * mtpAtHeight(h) is the median time past of the block at height h on the chain being extended.
 * enforce: BIP68 active for the block being built (csv height reached); version < 2 or
 * inactive means no locks.
 */
export function calculateSequenceLocks(
  tx: Tx,
  prevHeights: readonly number[],
  mtpAtHeight: (h: number) => number,
  enforce: boolean,
): SequenceLocks {
  if (prevHeights.length !== tx.inputs.length) {
    throw new RejectError('prevheights-mismatch', 'internal', {
      debug: `${prevHeights.length} heights for ${tx.inputs.length} inputs`,
    });
  }
  let minHeight = -1;
  let minTime = -1;
  // Compared unsigned, as Core does: a version that is negative as int32 counts as >= 2.
  if (!enforce || tx.version < 2) return { minHeight, minTime };
  for (let i = 0; i < tx.inputs.length; i++) {
    const seq = tx.inputs[i].sequence;
    if ((seq & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0) continue;
    const coinHeight = prevHeights[i];
    const value = seq & SEQUENCE_LOCKTIME_MASK;
    if ((seq & SEQUENCE_LOCKTIME_TYPE_FLAG) !== 0) {
      // The lock runs from the median time past of the block before the coin's block.
      const coinTime = mtpAtHeight(Math.max(coinHeight - 1, 0));
      minTime = Math.max(minTime, coinTime + value * (1 << SEQUENCE_LOCKTIME_GRANULARITY) - 1);
    } else {
      minHeight = Math.max(minHeight, coinHeight + value - 1);
    }
  }
  return { minHeight, minTime };
}

/** Core's EvaluateSequenceLocks: may a block at `height`, whose parent has `prevMtp`, include it? */
export function evaluateSequenceLocks(locks: SequenceLocks, height: number, prevMtp: number): boolean {
  return locks.minHeight < height && locks.minTime < prevMtp;
}

/**
 * Throws unless the locks are satisfied. In a block the failure is consensus
 * bad-txns-nonfinal; for the mempool ('mempool') it is non-BIP68-final, a premature spend that
 * may become valid later, so it is not held against the sender.
 */
export function checkSequenceLocks(
  locks: SequenceLocks,
  height: number,
  prevMtp: number,
  mode: 'block' | 'mempool' = 'block',
): void {
  if (evaluateSequenceLocks(locks, height, prevMtp)) return;
  const debug = `locked until height > ${locks.minHeight} / mtp > ${locks.minTime}`;
  if (mode === 'block') throw consensusError(Reason.NONFINAL, debug);
  throw new RejectError(Reason.NON_BIP68_FINAL, 'policy', { debug, dos: 0 });
}

/** The parameter fields BIP30 reads; ChainParams satisfies it. */
export interface BIP30Params {
  bip30Exceptions: readonly { height: number; hash: string }[];
}

/**
 * The two historical Bitcoin blocks that overwrote unspent coinbases (Core's IsBIP30Repeat):
 * BIP30 is not applied to them. hashHex is the block hash in display order.
 */
export function isBIP30Exception(height: number, hashHex: string, params: BIP30Params): boolean {
  return params.bip30Exceptions.some(
    (e) => e.height === height && e.hash.toLowerCase() === hashHex.toLowerCase(),
  );
}

/**
 * BIP30: a transaction may not create an output where an unspent coin already sits (a duplicate
 * txid would otherwise overwrite it and destroy the older coin). The caller skips this for
 * isBIP30Exception blocks; the view must include coins created earlier in the same block.
 */
export function checkBIP30(tx: Tx, view: CoinView): void {
  for (let i = 0; i < tx.outputs.length; i++) {
    if (view.getCoin(tx.outpoint(i))) {
      throw consensusError(Reason.BIP30, `tried to overwrite transaction ${tx.txidHex()}:${i}`);
    }
  }
}

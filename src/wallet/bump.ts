// bumpfee: a replacement of one of the wallet's unconfirmed sends at a higher fee rate (Core's
// feebumper), for the pool's full RBF to take in place of the original. The same inputs and
// recipients; the change output pays the extra fee (dropped into the fee when what is left would
// be dust). Owns Core's preconditions and messages; the caller broadcasts, commits and marks the
// original replaced, under the wallet's send lock. Fails with BumpError (its RPC code beside it),
// WalletLockedError, or WalletError for the fee ceiling.
import { Tx, TxOut } from '../primitives/tx.js';
import { compactSizeLength } from '../primitives/bytes.js';
import { DUST_THRESHOLD, feeFor } from './coinselect.js';
import { formatCoins as showCoins } from '../consensus/amount.js';
import { checkMaxTxFee } from './fund.js';
import { signTransaction } from './signing.js';
import type { Coin, Wallet } from './wallet.js';

/** Core's WALLET_INCREMENTAL_RELAY_FEE: the least a default bump adds, per 1,000 bytes. */
export const WALLET_INCREMENTAL_RELAY_FEE_RATE = 5000n;

export class BumpError extends Error {
  constructor(
    readonly kind: 'invalid-parameter' | 'wallet' | 'invalid-address-or-key',
    message: string,
  ) {
    super(message);
    this.name = 'BumpError';
  }
}

export interface BumpOptions {
  /** Rate asked for (fee_rate), base units per 1,000 bytes; else `estimate` or the least bump. */
  feeRatePerKb?: bigint;
  /** The wallet's estimate for its confirmation target, or null. */
  estimatePerKb: bigint | null;
  /** The pool's incremental relay fee rate (BIP125 rule 4). */
  incrementalPerKb: bigint;
  /** Whether the pool holds a transaction with a descendant (Core's "descendants in the mempool"). */
  hasPoolDescendants: (txid: string) => boolean;
  maxTxFee: bigint;
}

export interface Bumped {
  tx: Tx;
  origFee: bigint;
  fee: bigint;
}

/** Largest size the replacement can sign to (every signature at its longest). */
function maxSize(tx: Tx, coins: readonly Coin[]): number {
  const outs = tx.outputs.reduce(
    (s, o) => s + 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length,
    0,
  );
  return (
    4 +
    compactSizeLength(tx.inputs.length) +
    coins.reduce((n, c) => n + c.inputSize, 0) +
    compactSizeLength(tx.outputs.length) +
    outs +
    4
  );
}

export function createBumpTransaction(wallet: Wallet, txid: string, opts: BumpOptions): Bumped {
  const found = wallet.getTransaction(txid);
  if (found === null) throw new BumpError('invalid-address-or-key', 'Invalid or non-wallet transaction id');
  const { tx, record } = found;
  if (wallet.spendersOf(txid).length > 0)
    throw new BumpError('invalid-parameter', 'Transaction has descendants in the wallet');
  if (opts.hasPoolDescendants(txid))
    throw new BumpError('invalid-parameter', 'Transaction has descendants in the mempool');
  if (found.confirmations !== 0)
    throw new BumpError('wallet', 'Transaction has been mined, or is conflicted with a mined transaction');
  if (record.replacedBy !== undefined)
    throw new BumpError(
      'wallet',
      `Cannot bump transaction ${txid} which was already bumped by transaction ${record.replacedBy}`,
    );
  const coins: Coin[] = [];
  for (const input of tx.inputs) {
    const c = wallet.coinOf(input.prevout);
    if (c === null)
      throw new BumpError('wallet', "Transaction contains inputs that don't belong to this wallet");
    coins.push(c);
  }
  const origFee = coins.reduce((s, c) => s + c.value, 0n) - tx.outputs.reduce((s, o) => s + o.value, 0n);
  const size = maxSize(tx, coins);
  const oldRate = (origFee * 1000n) / BigInt(tx.size);
  // Core: at least the old rate plus the wallet's incremental rate when nothing is asked for.
  const least =
    oldRate +
    (opts.incrementalPerKb > WALLET_INCREMENTAL_RELAY_FEE_RATE
      ? opts.incrementalPerKb
      : WALLET_INCREMENTAL_RELAY_FEE_RATE);
  const rate =
    opts.feeRatePerKb ??
    (opts.estimatePerKb !== null && opts.estimatePerKb > least ? opts.estimatePerKb : least);
  let fee = feeFor(size, rate);
  const minFee = origFee + feeFor(size, opts.incrementalPerKb);
  if (fee < minFee || rate <= oldRate)
    throw new BumpError(
      'invalid-parameter',
      `Insufficient total fee ${showCoins(fee)}, must be at least ${showCoins(minFee)} (oldFee ${showCoins(origFee)} + incrementalFee ${showCoins(minFee - origFee)})`,
    );
  checkMaxTxFee(fee, opts.maxTxFee);
  const changeIndex = tx.outputs.findIndex((o) => wallet.isChange(o.scriptPubKey));
  if (changeIndex < 0) throw new BumpError('wallet', 'Transaction does not have a change output');
  const change = tx.outputs[changeIndex];
  const extra = fee - origFee;
  if (change.value < extra) throw new BumpError('wallet', 'Change output is too small to bump the fee');
  let outputs = tx.outputs.map((o, i) =>
    i === changeIndex ? new TxOut(o.value - extra, o.scriptPubKey) : o,
  );
  if (change.value - extra < DUST_THRESHOLD) {
    // What is left of the change would be dust: it goes to the fee too.
    outputs = outputs.filter((_, i) => i !== changeIndex);
    fee += change.value - extra;
    checkMaxTxFee(fee, opts.maxTxFee);
  }
  if (outputs.length === 0) throw new BumpError('wallet', 'Change output is too small to bump the fee');
  const unsigned = new Tx(
    tx.version,
    tx.inputs.map((i) => i),
    outputs,
    tx.locktime,
  );
  const signed = signTransaction(wallet, unsigned, coins);
  return { tx: signed, origFee, fee };
}

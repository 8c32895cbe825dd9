// Funding a payment: choosing coins (coinselect.ts), adding change to a fresh change address,
// building the transaction and signing it (signing.ts). Fails with WalletError (bad
// recipient or dust amount), AddressError, WalletLockedError or InsufficientFundsError.
import { randomInt } from 'node:crypto';
import { formatCoins } from '../consensus/amount.js';
import { Tx, TxIn, TxOut } from '../primitives/tx.js';
import { compactSizeLength } from '../primitives/bytes.js';
import { addressToScript } from '../primitives/address.js';
import {
  Candidate,
  DUST_THRESHOLD,
  P2PKH_INPUT_SIZE,
  P2PKH_OUTPUT_SIZE,
  Selection,
  selectCoins,
  feeFor,
} from './coinselect.js';
import { Coin, Wallet, WalletError } from './wallet.js';
import { signTransaction } from './signing.js';

/** Core's DEFAULT_TRANSACTION_MAXFEE (-maxtxfee): 0.1 coin. */
export const DEFAULT_MAX_TX_FEE = 10_000_000n;

/** Core's MAX_FEE_EXCEEDED, with the fee and how to allow it. */
export class MaxTxFeeError extends WalletError {
  constructor(
    readonly fee: bigint,
    readonly max: bigint,
  ) {
    super(
      `Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate): this transaction would pay ` +
        `${formatCoins(fee)} coins, above maxtxfee ${formatCoins(max)}; lower the fee rate, or raise maxtxfee ` +
        `(tally.conf or --maxtxfee) to allow it`,
    );
    this.name = 'MaxTxFeeError';
  }
}

/** Refuses a fee above the ceiling (Core's CreateTransaction check against m_default_max_tx_fee). */
export function checkMaxTxFee(fee: bigint, max: bigint): void {
  if (fee > max) throw new MaxTxFeeError(fee, max);
}

export interface PaymentOutput {
  address: string;
  value: bigint;
}

/** Core's MAX_BIP125_RBF_SEQUENCE: an input sequence at most this signals replaceability. */
export const MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;

export interface FundedTransaction {
  /** Inputs carry empty scriptSigs. */
  tx: Tx;
  /** The coin each input spends, in input order. */
  coins: Coin[];
  fee: bigint;
  /** Index of the change output, or -1. */
  changeIndex: number;
  selection: Selection;
}

export function fundTransaction(
  wallet: Wallet,
  outputs: PaymentOutput[],
  feeRatePerKb: bigint,
): FundedTransaction {
  if (outputs.length === 0) throw new WalletError('Transaction must have at least one recipient');
  const outs = outputs.map((o) => {
    const script = addressToScript(o.address, wallet.prefixes);
    if (o.value < DUST_THRESHOLD) throw new WalletError('Transaction amount too small');
    return new TxOut(o.value, script);
  });
  wallet.requireUnlocked();
  const target = outs.reduce((s, o) => s + o.value, 0n);
  const coins = wallet.spendableCoins();
  const byId = new Map(coins.map((c) => [c.outpoint.key(), c]));
  const candidates: Candidate[] = coins.map((c) => ({
    id: c.outpoint.key(),
    value: c.value,
    inputSize: c.inputSize,
  }));
  const outputsSize = outs.reduce(
    (s, o) => s + 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length,
    0,
  );
  // version + input count + output count + outputs + locktime; the input count takes 3 bytes past 252.
  const baseSize =
    4 + (candidates.length >= 253 ? 3 : 1) + compactSizeLength(outs.length + 1) + outputsSize + 4;
  const selection = selectCoins(candidates, {
    target,
    feeRatePerKb,
    baseSize,
    changeOutputSize: P2PKH_OUTPUT_SIZE,
    changeSpendSize: P2PKH_INPUT_SIZE,
    dustThreshold: DUST_THRESHOLD,
  });
  const finalOuts = [...outs];
  let changeIndex = -1;
  if (selection.change > 0n) {
    const changeScript = addressToScript(wallet.getChangeAddress(), wallet.prefixes);
    // A random position, as Core, so the change output does not stand out.
    changeIndex = randomInt(finalOuts.length + 1);
    finalOuts.splice(changeIndex, 0, new TxOut(selection.change, changeScript));
  }
  const chosen = selection.inputs.map((c) => byId.get(c.id)!);
  // Anti fee-sniping as Core: lock time at the current height; the sequence signals BIP125
  // replaceability as Core's wallet does by default (walletrbf=1), so bumpfee's replacement is
  // expected by anyone who still looks at the signal.
  const locktime = wallet.tip !== null ? Math.max(0, wallet.tip.height) : 0;
  const tx = new Tx(
    2,
    chosen.map((c) => new TxIn(c.outpoint, new Uint8Array(0), MAX_BIP125_RBF_SEQUENCE)),
    finalOuts,
    locktime,
  );
  return { tx, coins: chosen, fee: selection.fee, changeIndex, selection };
}

/**
 * Funds and signs a payment at `feeRatePerKb` (base units per 1000 bytes), refusing a fee above
 * `maxTxFee` before anything is signed. Not yet recorded.
 */
export function createTransaction(
  wallet: Wallet,
  outputs: PaymentOutput[],
  feeRatePerKb: bigint,
  maxTxFee: bigint = DEFAULT_MAX_TX_FEE,
): FundedTransaction {
  const funded = fundTransaction(wallet, outputs, feeRatePerKb);
  checkMaxTxFee(funded.fee, maxTxFee);
  const tx = signTransaction(wallet, funded.tx, funded.coins);
  // The size estimate assumed the largest signatures: the real fee rate can only be higher.
  if (funded.fee < feeFor(tx.size, feeRatePerKb))
    throw new WalletError(`fee ${funded.fee} is below the requested rate for ${tx.size} bytes`);
  return { ...funded, tx };
}

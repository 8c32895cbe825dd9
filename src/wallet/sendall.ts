// sendall: spends every spendable coin (or the chosen ones) to the recipients with no change
// output, the amount-less recipients sharing what is left after the fixed amounts and the fee
// (Core's sendall). Fails with WalletError (no coins, dust left, a chosen coin not spendable),
// WalletLockedError or the fee ceiling's MaxTxFeeError.
import { addressToScript } from '../primitives/address.js';
import { compactSizeLength } from '../primitives/bytes.js';
import { Tx, TxIn, TxOut } from '../primitives/tx.js';
import { DUST_THRESHOLD, feeFor } from './coinselect.js';
import { MAX_BIP125_RBF_SEQUENCE, checkMaxTxFee } from './fund.js';
import { signTransaction } from './signing.js';
import { type Coin, type Wallet, WalletError } from './wallet.js';

export interface SendAllRecipient {
  address: string;
  /** Undefined: shares what is left. */
  value?: bigint;
}

export function createSendAll(
  wallet: Wallet,
  recipients: SendAllRecipient[],
  feeRatePerKb: bigint,
  maxTxFee: bigint,
  only?: string[],
): { tx: Tx; fee: bigint } {
  if (recipients.length === 0) throw new WalletError('Must provide at least one recipient.');
  const shares = recipients.filter((r) => r.value === undefined).length;
  if (shares === 0)
    throw new WalletError(
      'Must provide at least one recipient without a specified amount (it receives the rest).',
    );
  wallet.requireUnlocked();
  const spendable = wallet.spendableCoins();
  let coins: Coin[];
  if (only === undefined) coins = spendable;
  else {
    const byKey = new Map(spendable.map((c) => [`${c.txid}:${c.vout}`, c]));
    coins = only.map((k) => {
      const c = byKey.get(k);
      if (c === undefined) throw new WalletError(`Input not available: ${k}`);
      return c;
    });
  }
  if (coins.length === 0) throw new WalletError('Total value of UTXO pool too low to pay for transaction.');
  const scripts = recipients.map((r) => addressToScript(r.address, wallet.prefixes));
  const outsSize = scripts.reduce((s, sc) => s + 8 + compactSizeLength(sc.length) + sc.length, 0);
  const size =
    4 +
    compactSizeLength(coins.length) +
    coins.reduce((n, c) => n + c.inputSize, 0) +
    compactSizeLength(scripts.length) +
    outsSize +
    4;
  const fee = feeFor(size, feeRatePerKb);
  const total = coins.reduce((s, c) => s + c.value, 0n);
  const fixed = recipients.reduce((s, r) => s + (r.value ?? 0n), 0n);
  const rest = total - fixed - fee;
  const share = rest / BigInt(shares);
  if (rest < 0n || share < DUST_THRESHOLD)
    throw new WalletError('Total value of UTXO pool too low to pay for transaction.');
  // Whatever the even split leaves over (less than one base unit per share) goes to the first share.
  let extra = rest - share * BigInt(shares);
  const outputs = recipients.map((r, i) => {
    if (r.value !== undefined) return new TxOut(r.value, scripts[i]);
    const v = share + extra;
    extra = 0n;
    return new TxOut(v, scripts[i]);
  });
  checkMaxTxFee(fee, maxTxFee);
  const locktime = wallet.tip !== null ? Math.max(0, wallet.tip.height) : 0;
  const unsigned = new Tx(
    2,
    coins.map((c) => new TxIn(c.outpoint, new Uint8Array(0), MAX_BIP125_RBF_SEQUENCE)),
    outputs,
    locktime,
  );
  return { tx: signTransaction(wallet, unsigned, coins), fee };
}

// Funding a payment: choosing coins (coinselect.ts), adding change to a fresh change address,
// building the transaction and signing it (signing.ts). Fails with WalletError (bad
// recipient or dust amount), AddressError, WalletLockedError or InsufficientFundsError.
import { randomInt } from 'node:crypto';
import { formatCoins } from '../consensus/amount.js';
import { OutPoint, Tx, TxIn, TxOut } from '../primitives/tx.js';
import { bytesToHex, compactSizeLength } from '../primitives/bytes.js';
import { addressToScript } from '../primitives/address.js';
import { classifyScript } from '../script/standard.js';
import {
  Candidate,
  DUST_THRESHOLD,
  P2PKH_INPUT_SIZE,
  P2PKH_OUTPUT_SIZE,
  selectCoins,
  feeFor,
} from './coinselect.js';
import { Coin, Wallet, WalletError } from './wallet.js';
import { signTransaction } from './signing.js';
import { RECEIVE } from './keys.js';
import { outputCoin } from './ledger.js';

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
  /** Inputs carry empty scriptSigs (preset ones as given). */
  tx: Tx;
  /** The coin each input spends, in input order. */
  coins: Coin[];
  fee: bigint;
  /** Index of the change output, or -1. */
  changeIndex: number;
}

/** The outputs that pay the fee cannot (Core's SFFO errors; sends answer them -6). */
export class FeeDeductionError extends WalletError {
  constructor(message: string) {
    super(message);
    this.name = 'FeeDeductionError';
  }
}

/** Core's MAX_STANDARD_TX_WEIGHT and MIN_STANDARD_TX_NONWITNESS_SIZE × 4: max_tx_weight's bounds. */
export const MAX_TX_WEIGHT = 400_000;
export const MIN_TX_WEIGHT = 260;

/** Core's ErrorMaxWeightExceeded. */
export const MAX_WEIGHT_EXCEEDED =
  "The inputs size exceeds the maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";

/**
 * What the caller tells of scripts the wallet does not hold (fundrawtransaction's solving_data,
 * Core's FlatSigningProvider): public keys and scripts by their hash160 (hex).
 */
export interface SolvingData {
  pubkeys: ReadonlyMap<string, Uint8Array>;
  scripts: ReadonlyMap<string, Uint8Array>;
}

const pushSize = (n: number) => (n < 76 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5) + n;
/**
 * A signature push at its largest: 72-byte DER + hash type. Inputs the wallet does not hold are
 * signed elsewhere, perhaps without grinding R, so they are sized as Core's use_max_sig does.
 */
const SIG_PUSH = 74;

function scriptSigSize(script: Uint8Array, data: SolvingData, top: boolean): number | null {
  const c = classifyScript(script);
  if (c.type === 'pubkey') return SIG_PUSH;
  if (c.type === 'multisig') return 1 + c.m * SIG_PUSH;
  if (c.type === 'pubkeyhash') {
    const pk = data.pubkeys.get(bytesToHex(c.hash));
    return pk === undefined ? null : SIG_PUSH + pushSize(pk.length);
  }
  if (c.type === 'scripthash' && top) {
    const redeem = data.scripts.get(bytesToHex(c.hash));
    const inner = redeem === undefined ? null : scriptSigSize(redeem, data, false);
    return inner === null ? null : inner + pushSize(redeem!.length);
  }
  return null;
}

/**
 * Core's CalculateMaximumSignedInputSize for an output the wallet does not hold: the serialized
 * size of an input spending `script`, signatures at their largest, from what `data` knows of it
 * (P2PK, P2PKH with its key, bare multisig, P2SH of those with its redeem script); null when it
 * cannot be solved.
 */
export function solvedInputSize(script: Uint8Array, data: SolvingData): number | null {
  const sig = scriptSigSize(script, data, true);
  return sig === null ? null : 32 + 4 + compactSizeLength(sig) + sig + 4;
}

/** A coin the wallet does not hold (an external preset input), as coin selection sees it. */
export function externalCoin(outpoint: OutPoint, out: TxOut, inputSize: number): Coin {
  return {
    ...outputCoin(outpoint, out),
    address: bytesToHex(out.scriptPubKey),
    branch: RECEIVE,
    index: -1,
    spendable: false,
    solvable: true,
    inputSize,
    confirmations: 0,
    coinbase: false,
    trusted: false,
    immature: false,
    used: false,
  };
}

/** An input already in the transaction (fundrawtransaction), kept first in its order. */
export interface PresetInput {
  input: TxIn;
  coin: Coin;
}

export interface FundOptions {
  /** Base units per 1,000 bytes. */
  feeRatePerKb: bigint;
  preset?: PresetInput[];
  /** Core's add_inputs: false funds from the preset inputs only. Default true. */
  addInputs?: boolean;
  /** Watch-only coins the wallet knows how to spend may be chosen (the result is then unsigned). */
  includeWatching?: boolean;
  /** Core's include_unsafe: unconfirmed coins of others' transactions may be chosen too. */
  includeUnsafe?: boolean;
  /** Confirmations of the coins added, at least / at most (Core's minconf/maxconf; not the preset's). */
  minConf?: number;
  maxConf?: number;
  /** Input sizes the caller gives (Core's input_weights, in bytes), by outpoint key; they win. */
  inputSizes?: ReadonlyMap<string, number>;
  /** nSequence of the inputs added: BIP125's 0xfffffffd (default, Core's walletrbf) or 0xfffffffe. */
  sequence?: number;
  /** Core's max_tx_weight (4 × size: no witness), 260 to 400,000. */
  maxWeight?: number;
  /** Leave out coins of addresses spent from (default: the wallet's avoid_reuse flag). */
  avoidReuse?: boolean;
  /** Where change goes; default a fresh change address. */
  changeScript?: Uint8Array;
  /** Where the change output goes among the outputs; default a random place, as Core. */
  changePosition?: number;
  /** Output indexes that pay the fee between them (Core's subtractFeeFromOutputs). */
  subtractFeeFrom?: number[];
  /** It will be signed: the wallet must be unlocked (WalletLockedError). */
  sign?: boolean;
  version?: number;
  /** Default the tip's height (anti fee-sniping, as Core). */
  locktime?: number;
}

/** Core's error when add_inputs is false and the preset inputs fall short. */
export const PRESET_SHORT =
  'The preselected coins total amount does not cover the transaction target. Please allow other inputs to be automatically selected or include more coins manually';

const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
const outputSize = (o: TxOut) => 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length;

/**
 * Adds coins (and change) to outputs as Core's CreateTransaction: the preset inputs first; when
 * they fall short (and addInputs), coin selection over the wallet's spendable coins for the
 * rest. With subtractFeeFrom the coins are chosen by value and the named outputs pay the fee in
 * equal shares (the first one the remainder), as Core.
 */
export function fundOutputs(wallet: Wallet, outputs: readonly TxOut[], o: FundOptions): FundedTransaction {
  if (outputs.length === 0) throw new WalletError('Transaction must have at least one recipient');
  for (const out of outputs)
    if (out.value < DUST_THRESHOLD) throw new WalletError('Transaction amount too small');
  if (o.sign === true) wallet.requireUnlocked();
  const maxWeight = o.maxWeight ?? MAX_TX_WEIGHT;
  if (maxWeight < MIN_TX_WEIGHT || maxWeight > MAX_TX_WEIGHT)
    throw new WalletError(`Maximum transaction weight must be between ${MIN_TX_WEIGHT} and ${MAX_TX_WEIGHT}`);
  const sizeOf = (c: Coin) => o.inputSizes?.get(c.outpoint.key()) ?? c.inputSize;
  const sffo = [...new Set(o.subtractFeeFrom ?? [])];
  // The recipients pay the fee: coins are chosen to cover the amounts alone.
  const selRate = sffo.length > 0 ? 0n : o.feeRatePerKb;
  const preset = o.preset ?? [];
  const presetKeys = new Set(preset.map((p) => p.coin.outpoint.key()));
  const target = sum(outputs.map((x) => x.value));
  const presetValue = sum(preset.map((p) => p.coin.value));
  const presetSize = preset.reduce((s, p) => s + sizeOf(p.coin), 0);
  const outputsSize = outputs.reduce((s, x) => s + outputSize(x), 0);
  // version + input count + output count (change included) + outputs + locktime.
  const sizeWithout = (inputs: number, inputsSize: number) =>
    4 + (inputs >= 253 ? 3 : 1) + compactSizeLength(outputs.length + 1) + outputsSize + 4 + inputsSize;
  const changeFee = feeFor(P2PKH_OUTPUT_SIZE, selRate);
  let chosen: Coin[] = [];
  let change = 0n;
  const excess = presetValue - target - feeFor(sizeWithout(preset.length, presetSize), selRate);
  if ((preset.length > 0 && excess >= 0n) || o.addInputs === false) {
    if (excess < 0n) throw new WalletError(PRESET_SHORT);
    if (excess - changeFee >= DUST_THRESHOLD) change = excess - changeFee;
  } else {
    const coins = wallet
      .spendableCoins(o.includeWatching === true, o.avoidReuse, o.includeUnsafe === true)
      .filter(
        (c) =>
          !presetKeys.has(c.outpoint.key()) &&
          c.confirmations >= (o.minConf ?? 0) &&
          c.confirmations <= (o.maxConf ?? Infinity),
      );
    const byId = new Map(coins.map((c) => [c.outpoint.key(), c]));
    const candidates: Candidate[] = coins.map((c) => ({
      id: c.outpoint.key(),
      value: c.value,
      inputSize: sizeOf(c),
    }));
    const baseSize = sizeWithout(preset.length + candidates.length, presetSize);
    const maxInputsSize = Math.floor(maxWeight / 4) - baseSize;
    if (maxInputsSize < 0)
      throw new WalletError('Maximum transaction weight is less than transaction weight without inputs');
    const selection = selectCoins(candidates, {
      target: target - presetValue,
      feeRatePerKb: selRate,
      maxInputsSize,
      baseSize,
      changeOutputSize: P2PKH_OUTPUT_SIZE,
      changeSpendSize: P2PKH_INPUT_SIZE,
      dustThreshold: DUST_THRESHOLD,
    });
    chosen = selection.inputs.map((c) => byId.get(c.id)!);
    change = selection.change;
  }
  const coins = [...preset.map((p) => p.coin), ...chosen];
  const inValue = sum(coins.map((c) => c.value));
  // The size once signed, at most (the change output counted when there is one).
  const size =
    sizeWithout(
      coins.length,
      coins.reduce((s, c) => s + sizeOf(c), 0),
    ) + (change > 0n ? P2PKH_OUTPUT_SIZE : 0);
  if (size * 4 > maxWeight) throw new WalletError(MAX_WEIGHT_EXCEEDED);
  let finalOuts = [...outputs];
  if (sffo.length > 0) {
    // A dust change dropped into the fee already pays part of it.
    const toReduce = feeFor(size, o.feeRatePerKb) - (inValue - target - change);
    if (toReduce > 0n) finalOuts = subtractFee(finalOuts, sffo, toReduce);
  }
  let changeIndex = -1;
  if (change > 0n) {
    const script = o.changeScript ?? addressToScript(wallet.getChangeAddress(), wallet.prefixes);
    // A random position, as Core, so the change output does not stand out.
    changeIndex = o.changePosition ?? randomInt(finalOuts.length + 1);
    finalOuts.splice(changeIndex, 0, new TxOut(change, script));
  }
  // Anti fee-sniping as Core: lock time at the current height; the sequence signals BIP125
  // replaceability as Core's wallet does by default (walletrbf=1), so bumpfee's replacement is
  // expected by anyone who still looks at the signal.
  const locktime = o.locktime ?? (wallet.tip !== null ? Math.max(0, wallet.tip.height) : 0);
  const tx = new Tx(
    o.version ?? 2,
    [
      ...preset.map((p) => p.input),
      ...chosen.map((c) => new TxIn(c.outpoint, new Uint8Array(0), o.sequence ?? MAX_BIP125_RBF_SEQUENCE)),
    ],
    finalOuts,
    locktime,
  );
  const fee = inValue - sum(finalOuts.map((x) => x.value));
  return { tx, coins, fee, changeIndex };
}

/** Takes `fee` from the outputs at `from` in equal shares, the first paying the remainder (Core). */
function subtractFee(outputs: readonly TxOut[], from: number[], fee: bigint): TxOut[] {
  const n = BigInt(from.length);
  const out = [...outputs];
  from.forEach((i, k) => {
    const value = out[i].value - fee / n - (k === 0 ? fee % n : 0n);
    if (value <= 0n) throw new FeeDeductionError('The transaction amount is too small to pay the fee');
    if (value < DUST_THRESHOLD)
      throw new FeeDeductionError(
        'The transaction amount is too small to send after the fee has been deducted',
      );
    out[i] = new TxOut(value, out[i].scriptPubKey);
  });
  return out;
}

export function fundTransaction(
  wallet: Wallet,
  outputs: PaymentOutput[],
  feeRatePerKb: bigint,
  subtractFeeFrom?: number[],
  avoidReuse?: boolean,
): FundedTransaction {
  if (outputs.length === 0) throw new WalletError('Transaction must have at least one recipient');
  const outs = outputs.map((x) => new TxOut(x.value, addressToScript(x.address, wallet.prefixes)));
  return fundOutputs(wallet, outs, { feeRatePerKb, subtractFeeFrom, sign: true, avoidReuse });
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
  subtractFeeFrom?: number[],
  avoidReuse?: boolean,
): FundedTransaction {
  const funded = fundTransaction(wallet, outputs, feeRatePerKb, subtractFeeFrom, avoidReuse);
  checkMaxTxFee(funded.fee, maxTxFee);
  const tx = signTransaction(wallet, funded.tx, funded.coins);
  // The size estimate assumed the largest signatures: the real fee rate can only be higher.
  if (funded.fee < feeFor(tx.size, feeRatePerKb))
    throw new WalletError(`fee ${funded.fee} is below the requested rate for ${tx.size} bytes`);
  return { ...funded, tx };
}

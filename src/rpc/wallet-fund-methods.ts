// fundrawtransaction with Core v29's options, result and error codes: the inputs already in the
// transaction are kept (first, in their order), the wallet's coins are added as needed (unless
// add_inputs is false) and change is added; nothing is signed or sent. Coin choice is wallet/'s
// (fund.ts), under the wallet's send lock so a send in flight keeps its coins.
import { isValidPubkey } from '../crypto/secp256k1.js';
import { hash160 } from '../crypto/hash.js';
import { AddressError, addressToScript, type AddressPrefixes } from '../primitives/address.js';
import { bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { OutPoint, Tx, TxOut } from '../primitives/tx.js';
import { InsufficientFundsError, SelectionWeightError } from '../wallet/coinselect.js';
import {
  checkMaxTxFee,
  DEFAULT_MAX_TX_FEE,
  externalCoin,
  fundOutputs,
  type FundedTransaction,
  MAX_BIP125_RBF_SEQUENCE,
  MAX_TX_WEIGHT,
  solvedInputSize,
  type PresetInput,
  type SolvingData,
} from '../wallet/fund.js';
import { signTransaction } from '../wallet/signing.js';
import { Wallet, WalletError } from '../wallet/wallet.js';
import { DescriptorError } from './descriptor.js';
import { expandDescriptor, parseDescriptorText } from './descriptor-parse.js';
import { JsonAmount, parseCoins } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import { ParamReader } from './params.js';
import { parseInputs } from './rawtx-methods.js';
import { decodeTx, hashField, isObject } from './rawtx-params.js';
import type { RpcServer } from './server.js';
import {
  checkExplicitFeeRate,
  feeRateFromSatPerVb,
  walletRegistrar,
  type WalletRpcDeps,
} from './wallet-common.js';

/** Core's RPCTypeCheckObj for fundrawtransaction's options: each key it knows and its JSON type. */
const FUND_OPTIONS: Record<string, string> = {
  add_inputs: 'bool',
  include_unsafe: 'bool',
  add_to_wallet: 'bool',
  changeAddress: 'string',
  change_address: 'string',
  changePosition: 'number',
  change_position: 'number',
  change_type: 'string',
  includeWatching: 'bool',
  include_watching: 'bool',
  inputs: 'array',
  lockUnspents: 'bool',
  lock_unspents: 'bool',
  locktime: 'number',
  fee_rate: 'any',
  feeRate: 'any',
  psbt: 'bool',
  solving_data: 'object',
  subtractFeeFromOutputs: 'array',
  subtract_fee_from_outputs: 'array',
  replaceable: 'bool',
  conf_target: 'number',
  estimate_mode: 'string',
  minconf: 'number',
  maxconf: 'number',
  input_weights: 'array',
  max_tx_weight: 'number',
};

/** Core's output types (ParseOutputType); the wallet makes only legacy (P2PKH) ones. */
const OUTPUT_TYPES = new Set(['legacy', 'p2sh-segwit', 'bech32', 'bech32m']);
const ESTIMATE_MODES = new Set(['unset', 'economical', 'conservative']);
/** Core's GetTransactionInputWeight(CTxIn()): an input with an empty scriptSig. */
const MIN_INPUT_WEIGHT = 165;
/** Core's CTxIn::MAX_SEQUENCE_NONFINAL: an input that does not signal BIP125 (replaceable false). */
const MAX_SEQUENCE_NONFINAL = 0xfffffffe;
const HEX = /^([0-9a-fA-F]{2})*$/;

/** UniValue's uvTypeName. */
function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/** The options checked as Core's RPCTypeCheckObj (-3 a wrong type, then an unknown key); nulls dropped. */
function fundOptions(o: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    const want = FUND_OPTIONS[k];
    if (want === undefined || want === 'any' || v === null || jsonTypeName(v) === want) continue;
    throw new RpcError(
      RpcCode.TYPE_ERROR,
      `JSON value of type ${jsonTypeName(v)} for field ${k} is not of expected type ${want}`,
    );
  }
  for (const k of Object.keys(o))
    if (!(k in FUND_OPTIONS)) throw new RpcError(RpcCode.TYPE_ERROR, `Unexpected key ${k}`);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

/** The snake_case spelling first, as Core reads it. */
const pick = (o: Record<string, unknown>, camel: string, snake: string): unknown => o[snake] ?? o[camel];

/** Core's COutPoint::ToString, as its "Not found pre-selected input" names it. */
const outpointText = (op: OutPoint) => `COutPoint(${op.txidHex().slice(0, 10)}, ${op.index})`;

const invalid = (message: string) => new RpcError(RpcCode.INVALID_PARAMETER, message);

function integer(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be an integer`);
  return v;
}

/** Core's HexToPubKey (-5), its wording. */
function solvingPubkey(v: unknown): Uint8Array {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (typeof v !== 'string' || !HEX.test(v))
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Pubkey "${text}" must be a hex string`);
  if (v.length !== 66 && v.length !== 130)
    throw new RpcError(
      RpcCode.INVALID_ADDRESS_OR_KEY,
      `Pubkey "${text}" must have a length of either 33 or 65 bytes`,
    );
  const pub = hexToBytes(v);
  if (!isValidPubkey(pub))
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Pubkey "${text}" must be cryptographically valid.`);
  return pub;
}

function arrayField(o: Record<string, unknown>, key: string): unknown[] {
  const v = o[key] ?? [];
  if (!Array.isArray(v))
    throw new RpcError(
      RpcCode.TYPE_ERROR,
      `JSON value of type ${jsonTypeName(v)} for field ${key} is not of expected type array`,
    );
  return v;
}

/** solving_data {pubkeys, scripts, descriptors}: keys and scripts by hash160, with Core's errors. */
function solvingData(v: unknown, prefixes: AddressPrefixes): SolvingData {
  const pubkeys = new Map<string, Uint8Array>();
  const scripts = new Map<string, Uint8Array>();
  const o = (v ?? {}) as Record<string, unknown>;
  for (const k of arrayField(o, 'pubkeys').map(solvingPubkey)) pubkeys.set(bytesToHex(hash160(k)), k);
  for (const x of arrayField(o, 'scripts')) {
    if (typeof x !== 'string' || !HEX.test(x))
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `'${String(x)}' is not hex`);
    const script = hexToBytes(x);
    scripts.set(bytesToHex(hash160(script)), script);
  }
  for (const d of arrayField(o, 'descriptors')) {
    const text = typeof d === 'string' ? d : JSON.stringify(d);
    let info;
    try {
      // As Core: the checksum is required, and a ranged descriptor is expanded at position 0.
      info = expandDescriptor(parseDescriptorText(text, prefixes, true), 0).info;
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
      throw invalid(`Unable to parse descriptor '${text}': ${e.message}`);
    }
    for (const [h, k] of info.keys) pubkeys.set(h, k.pubkey);
    for (const [h, script] of info.redeemScripts) scripts.set(h, script);
  }
  return { pubkeys, scripts };
}

/** input_weights [{txid, vout, weight}]: input sizes in bytes by outpoint key, with Core's -8s. */
function inputWeights(v: unknown): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const w of (v as unknown[] | undefined) ?? []) {
    const o = isObject(w) ? w : {};
    const hash = hashField(o.txid, 'txid');
    if (typeof o.vout !== 'number') throw invalid('Invalid parameter, missing vout key');
    const vout = integer(o.vout, 'vout');
    if (vout < 0) throw invalid('Invalid parameter, vout cannot be negative');
    if (typeof o.weight !== 'number') throw invalid('Invalid parameter, missing weight key');
    const weight = integer(o.weight, 'weight');
    if (weight < MIN_INPUT_WEIGHT)
      throw invalid(
        `Invalid parameter, weight cannot be less than ${MIN_INPUT_WEIGHT} (41 bytes (size of outpoint + sequence + empty scriptSig) * 4 (witness scaling factor)) + 1 (empty witness)`,
      );
    if (weight > MAX_TX_WEIGHT)
      throw invalid(
        `Invalid parameter, weight cannot be greater than the maximum standard tx weight of ${MAX_TX_WEIGHT}`,
      );
    // Core's GetVirtualTransactionSize(weight, 0, 0): no witness here, so the size is weight / 4.
    sizes.set(new OutPoint(hash, vout).key(), Math.ceil(weight / 4));
  }
  return sizes;
}

/**
 * fee_rate (sat/vB) or feeRate (coins/kB), else settxfee's unless conf_target is given, else the
 * estimate for conf_target (default 6), else the fallback; Core's -8 for each clash, a bad
 * estimate_mode or conf_target. One estimate horizon: economical and conservative are the same.
 */
function fundFeeRate(o: Record<string, unknown>, deps: WalletRpcDeps, payTxFee: bigint): bigint {
  const target = o.conf_target;
  const mode = o.estimate_mode as string | undefined;
  const both = (a: string, b: string) =>
    invalid(
      `Cannot specify both ${a} and ${b}. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.`,
    );
  if (o.feeRate !== undefined) {
    if (o.fee_rate !== undefined)
      throw invalid('Cannot specify both fee_rate (sat/vB) and feeRate (BTC/kvB)');
    if (target !== undefined) throw both('conf_target', 'feeRate');
    if (mode !== undefined) throw invalid('Cannot specify both estimate_mode and feeRate');
    return parseCoins(o.feeRate);
  }
  if (o.fee_rate !== undefined) {
    if (target !== undefined) throw both('conf_target', 'fee_rate');
    if (mode !== undefined && mode.toLowerCase() !== 'unset')
      throw invalid('Cannot specify both estimate_mode and fee_rate');
    return feeRateFromSatPerVb(new ParamReader([o.fee_rate], ['fee_rate']), 0);
  }
  if (mode !== undefined && !ESTIMATE_MODES.has(mode.toLowerCase()))
    throw invalid('Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"');
  if (target === undefined) {
    if (payTxFee > 0n) return payTxFee;
    return deps.estimateFeeRatePerKb?.(6) ?? deps.defaultFeeRatePerKb;
  }
  const t = integer(target, 'conf_target');
  if (t < 1 || t > 1008) throw invalid('Invalid conf_target, must be between 1 and 1008');
  return deps.estimateFeeRatePerKb?.(t) ?? deps.defaultFeeRatePerKb;
}

/** The options read, in Core's order (its FundTransaction), each with Core's error. */
function readFundOptions(o: Record<string, unknown>, outputs: number, deps: WalletRpcDeps, wallet: Wallet) {
  let changeScript: Uint8Array | undefined;
  const changeAddress = pick(o, 'changeAddress', 'change_address') as string | undefined;
  if (changeAddress !== undefined) {
    try {
      changeScript = addressToScript(changeAddress, wallet.prefixes);
    } catch (e) {
      if (!(e instanceof AddressError)) throw e;
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Change address must be a valid Tally address');
    }
  }
  const pos = pick(o, 'changePosition', 'change_position');
  const changePosition = pos === undefined ? undefined : integer(pos, 'changePosition');
  if (changePosition !== undefined && (changePosition < 0 || changePosition > outputs))
    throw invalid('changePosition out of bounds');
  const changeType = o.change_type as string | undefined;
  if (changeType !== undefined) {
    if (changeAddress !== undefined)
      throw invalid('Cannot specify both change address and address type options');
    if (!OUTPUT_TYPES.has(changeType))
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Unknown change type '${changeType}'`);
  }
  const feeRatePerKb = fundFeeRate(o, deps, wallet.payTxFee);
  const minConf = o.minconf === undefined ? 0 : integer(o.minconf, 'minconf');
  if (minConf < 0) throw invalid('Negative minconf');
  const maxConf = o.maxconf === undefined ? undefined : integer(o.maxconf, 'maxconf');
  if (maxConf !== undefined && maxConf < minConf)
    throw invalid(`maxconf can't be lower than minconf: ${maxConf} < ${minConf}`);
  return {
    addInputs: (o.add_inputs as boolean | undefined) ?? true,
    changeScript,
    changePosition,
    // A type the wallet cannot make (Core's legacy wallet lacking its keys): change is refused.
    noChangeType: changeType !== undefined && changeType !== 'legacy' ? changeType : undefined,
    lock: (pick(o, 'lockUnspents', 'lock_unspents') as boolean | undefined) ?? false,
    includeUnsafe: (o.include_unsafe as boolean | undefined) ?? false,
    feeRatePerKb,
    sequence: o.replaceable === false ? MAX_SEQUENCE_NONFINAL : MAX_BIP125_RBF_SEQUENCE,
    minConf,
    maxConf,
    solving: solvingData(o.solving_data, wallet.prefixes),
    inputSizes: inputWeights(o.input_weights),
    maxWeight: o.max_tx_weight === undefined ? undefined : integer(o.max_tx_weight, 'max_tx_weight'),
  };
}

/**
 * Core's FundTransaction (fundrawtransaction, send): the options read, the inputs found (wallet
 * coins, else the pool and the UTXO set), the transaction funded under the wallet's send lock, and
 * `then` run in the same turn (send signs and broadcasts there). `o` has passed fundOptions.
 */
export async function fundRaw<T>(
  deps: WalletRpcDeps,
  wallet: Wallet,
  raw: Tx,
  o: Record<string, unknown>,
  includeWatching: boolean,
  then: (funded: FundedTransaction) => T | Promise<T>,
): Promise<T> {
  const opt = readFundOptions(o, raw.outputs.length, deps, wallet);
  if (raw.outputs.length === 0) throw invalid('TX must have at least one output');
  const sffo = subtractFeeOutputs(
    pick(o, 'subtractFeeFromOutputs', 'subtract_fee_from_outputs'),
    raw.outputs.length,
  );
  // What the pool and the UTXO set hold at the inputs (Core's findCoins), for those the wallet
  // does not hold: read first, so the wallet's turn below decides with no await in it.
  const ops = raw.inputs.map((i) => i.prevout);
  const inChain = deps.chain === undefined ? [] : await deps.chain.getCoins(ops);
  const outside = ops.map((op, n) => {
    const c = inChain[n];
    return deps.mempoolOutput?.(op) ?? (c === undefined ? undefined : new TxOut(c.value, c.script));
  });
  return wallet.runExclusive(() => {
    const coins = new Map(wallet.listCoins().map((c) => [c.outpoint.key(), c]));
    const held = ops.map((op, n) => {
      const coin = coins.get(op.key());
      if (coin !== undefined) return coin;
      const out = outside[n];
      if (out === undefined)
        throw new RpcError(RpcCode.WALLET_ERROR, 'Unable to find UTXO for external input');
      return out;
    });
    const preset: PresetInput[] = raw.inputs.map((input, n) => {
      const h = held[n];
      const external = h instanceof TxOut;
      const size =
        opt.inputSizes.get(input.prevout.key()) ??
        (external ? solvedInputSize(h.scriptPubKey, opt.solving) : h.solvable ? h.inputSize : null);
      if (size === null)
        throw new RpcError(
          RpcCode.WALLET_ERROR,
          `Not solvable pre-selected input ${outpointText(input.prevout)}`,
        );
      return { input, coin: external ? externalCoin(input.prevout, h, size) : h };
    });
    let funded;
    try {
      funded = fundOutputs(wallet, raw.outputs, {
        ...opt,
        preset,
        includeWatching,
        // No change address is reserved for a type the wallet cannot make; needing one fails below.
        changeScript: opt.noChangeType !== undefined ? new Uint8Array(0) : opt.changeScript,
        subtractFeeFrom: sffo,
        version: raw.version,
        locktime: raw.locktime,
      });
      if (funded.changeIndex !== -1 && opt.noChangeType !== undefined)
        throw new WalletError(
          `Transaction needs a change address, but we can't generate it. Error: No ${opt.noChangeType} addresses available.`,
        );
      checkMaxTxFee(funded.fee, deps.maxTxFee ?? DEFAULT_MAX_TX_FEE);
    } catch (e) {
      // Core's FundTransaction answers every failure to fund as RPC_WALLET_ERROR.
      if (e instanceof InsufficientFundsError) throw new RpcError(RpcCode.WALLET_ERROR, 'Insufficient funds');
      if (e instanceof WalletError || e instanceof SelectionWeightError)
        throw new RpcError(RpcCode.WALLET_ERROR, e.message);
      throw e;
    }
    // As Core: every input of the result is locked, preset ones included (in memory only).
    if (opt.lock)
      wallet.setLocked(
        funded.coins.map((c) => `${c.txid}:${c.vout}`),
        true,
        false,
      );
    return then(funded);
  });
}

export function registerWalletFundMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);

  reg(
    'fundrawtransaction',
    ['hexstring', 'options', 'iswitness'],
    'Adds wallet coins and a change output to a raw transaction until it pays its outputs and the fee; the ' +
      'inputs already there are kept (one the wallet does not hold needs solving_data or input_weights). ' +
      'options: {add_inputs, include_unsafe, minconf, maxconf, changeAddress, changePosition, change_type ' +
      '(legacy), includeWatching, lockUnspents, fee_rate (sat/vB) or feeRate (coins/kB), conf_target, ' +
      'estimate_mode, subtractFeeFromOutputs, replaceable, solving_data {pubkeys, scripts, descriptors}, ' +
      'input_weights, max_tx_weight}. Nothing is signed. Result: {hex, fee, changepos}.',
    async (r, _c, w) => {
      const raw = decodeTx(r.string(0), 'TX decode failed');
      let o: Record<string, unknown> = {};
      let includeWatching = false;
      if (r.kind(1) === 'boolean') includeWatching = r.bool(1);
      else if (r.has(1)) {
        o = fundOptions(r.object(1));
        includeWatching = (pick(o, 'includeWatching', 'include_watching') as boolean | undefined) ?? false;
      }
      return fundRaw(deps, w(), raw, o, includeWatching, (funded) => ({
        hex: bytesToHex(funded.tx.encode()),
        fee: new JsonAmount(funded.fee),
        changepos: funded.changeIndex,
      }));
    },
  );
}

function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be a boolean`);
  return v;
}

/** subtractFeeFromOutputs: output indexes, Core's -8 for a negative, too large or repeated one. */
export function subtractFeeOutputs(v: unknown, outputs: number): number[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new RpcError(RpcCode.TYPE_ERROR, 'subtractFeeFromOutputs must be an array');
  const seen = new Set<number>();
  for (const p of v) {
    if (typeof p !== 'number' || !Number.isSafeInteger(p))
      throw new RpcError(RpcCode.TYPE_ERROR, 'subtractFeeFromOutputs: expected integers');
    if (seen.has(p))
      throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, duplicated position: ${p}`);
    if (p < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, negative position: ${p}`);
    if (p >= outputs)
      throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, position too large: ${p}`);
    seen.add(p);
  }
  return [...seen];
}

/**
 * simulaterawtransaction as Core v29: the change in the wallet's balance if the transactions were
 * accepted in order, each input found among the earlier ones' outputs, the wallet's coins or the
 * UTXO set (not spent in the pool), else Core's -8.
 */
export function registerSimulateMethod(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  reg(
    'simulaterawtransaction',
    ['rawtxs', 'options'],
    "The change in the wallet's balance if the raw transactions were accepted, in order. options: " +
      '{include_watchonly}. Result: {balance_change}.',
    async (r, _c, w) => {
      const wallet = w();
      const raws = r.has(0) ? r.array(0) : [];
      const options = r.has(1) ? r.object(1) : {};
      for (const k of Object.keys(options))
        if (k !== 'include_watchonly') throw new RpcError(RpcCode.TYPE_ERROR, `Unexpected key ${k}`);
      const watch =
        options.include_watchonly === undefined
          ? false
          : bool(options.include_watchonly, 'include_watchonly');
      const txs = raws.map((h) => {
        if (typeof h !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, 'rawtxs: expected hex strings');
        return decodeTx(h, 'Transaction hex string decoding failure.');
      });
      const missing = () =>
        new RpcError(
          RpcCode.INVALID_PARAMETER,
          'One or more transaction inputs are missing or have been spent already',
        );
      // Every outpoint the chain is asked about, in one read; what the wallet sees after it.
      const ops = txs.flatMap((tx) => tx.inputs.map((i) => i.prevout));
      const chainCoins = deps.chain === undefined ? [] : await deps.chain.getCoins(ops);
      const inChain = new Set(ops.filter((_, n) => chainCoins[n] !== undefined).map((op) => op.key()));
      const mine = (spendable: boolean) => spendable || watch;
      const walletCoins = new Map(wallet.listCoins().map((c) => [c.outpoint.key(), c]));
      const spent = new Set<string>();
      const created = new Map<string, bigint>();
      let change = 0n;
      for (const tx of txs) {
        for (const { prevout } of tx.inputs) {
          const key = prevout.key();
          if (spent.has(key))
            throw new RpcError(
              RpcCode.INVALID_PARAMETER,
              'Transaction(s) are spending the same output more than once',
            );
          const made = created.get(key);
          if (made !== undefined) {
            change -= made;
            created.delete(key);
          } else {
            if (deps.mempoolSpender?.(prevout) !== undefined) throw missing();
            const coin = walletCoins.get(key);
            if (coin !== undefined) change -= mine(coin.spendable) ? coin.value : 0n;
            else if (!inChain.has(key)) throw missing();
          }
          spent.add(key);
        }
        const txid = tx.txid();
        tx.outputs.forEach((out, i) => {
          const info = wallet.scriptInfo(out.scriptPubKey);
          const value = info !== null && mine(info.spendable) ? out.value : 0n;
          created.set(new OutPoint(txid, i).key(), value);
          change += value;
        });
      }
      return { balance_change: new JsonAmount(change) };
    },
  );
}

/** Core's PreventOutdatedOptions: send takes only the snake_case spellings (-8). */
const OUTDATED: [string, string][] = [
  ['feeRate', 'fee_rate (sat/vB)'],
  ['changeAddress', 'change_address'],
  ['changePosition', 'change_position'],
  ['lockUnspents', 'lock_unspents'],
  ['subtractFeeFromOutputs', 'subtract_fee_from_outputs'],
];

/**
 * send as Core v29: outputs [{address: coins}, ...], conf_target, estimate_mode and fee_rate as
 * arguments or options (not both), options.inputs (add_inputs then defaults to false) and
 * locktime, then fundrawtransaction's funding, signed and (add_to_wallet, default true) sent and
 * recorded. Result {txid, complete}, with hex when not sent. Tally has no PSBT: psbt true is -8,
 * and a transaction the wallet cannot sign whole is -4.
 */
export async function send(
  deps: WalletRpcDeps,
  wallet: Wallet,
  r: ParamReader,
  outputs: readonly TxOut[],
): Promise<{ txid: string; hex?: string; complete: true }> {
  const o = { ...(r.has(4) ? r.object(4) : {}) };
  // Core's InterpretFeeEstimationInstructions.
  if ('conf_target' in o || 'estimate_mode' in o) {
    if (r.has(1) || r.has(2))
      throw invalid(
        'Pass conf_target and estimate_mode either as arguments or in the options object, but not both',
      );
  } else {
    if (r.has(1)) o.conf_target = r.number(1);
    if (r.has(2)) o.estimate_mode = r.string(2);
  }
  if ('fee_rate' in o) {
    if (r.has(3))
      throw invalid('Pass the fee_rate either as an argument, or in the options object, but not both');
  } else if (r.has(3)) o.fee_rate = r.value(3);
  if (
    o.conf_target !== undefined &&
    o.conf_target !== null &&
    (o.estimate_mode === undefined || o.estimate_mode === null || o.estimate_mode === 'unset')
  )
    throw invalid('Specify estimate_mode');
  for (const [old, now] of OUTDATED) if (old in o) throw invalid(`Use ${now} instead of ${old}`);
  const opts = fundOptions(o);
  if (opts.psbt === true) throw invalid('psbt is not supported: Tally has no PSBT (use fundrawtransaction)');
  if (opts.input_weights !== undefined)
    throw invalid('Input weights should be specified in inputs rather than in options.');
  const inputs = (opts.inputs as unknown[] | undefined) ?? [];
  const locktime = opts.locktime === undefined ? undefined : integer(opts.locktime, 'locktime');
  if (locktime !== undefined && (locktime < 0 || locktime > 0xffffffff))
    throw invalid('Invalid parameter, locktime out of range');
  const replaceable = (opts.replaceable as boolean | undefined) ?? true;
  const txIns = parseInputs(inputs, locktime ?? 0, replaceable);
  // Core's SetOptionsInputWeights: a weight given with an input.
  const weighted = inputs.filter((i) => isObject(i) && i.weight !== undefined);
  if (weighted.length > 0) opts.input_weights = weighted;
  if (opts.add_inputs === undefined) opts.add_inputs = txIns.length === 0;
  // Anti fee-sniping as Core's FinishTransaction: the tip's height unless a lock time is given or
  // an input's sequence leaves the lock time off.
  const snipe =
    locktime === undefined &&
    txIns.every((i) => i.sequence === MAX_BIP125_RBF_SEQUENCE || i.sequence === MAX_SEQUENCE_NONFINAL);
  const raw = new Tx(
    2,
    txIns,
    [...outputs],
    locktime ?? (snipe && wallet.tip !== null ? wallet.tip.height : 0),
  );
  const includeWatching = (opts.include_watching as boolean | undefined) ?? false;
  // Core's send does not override the wallet's minimum (fundrawtransaction does): -4 below it.
  if (opts.fee_rate !== undefined && opts.fee_rate !== null && opts.conf_target === undefined)
    checkExplicitFeeRate(
      feeRateFromSatPerVb(new ParamReader([opts.fee_rate], ['fee_rate']), 0),
      deps,
      RpcCode.WALLET_ERROR,
    );
  return fundRaw(deps, wallet, raw, opts, includeWatching, async (funded) => {
    if (funded.coins.some((c) => !c.spendable))
      throw new RpcError(
        RpcCode.WALLET_ERROR,
        'The wallet cannot sign every input (Tally has no PSBT): fund it with fundrawtransaction and sign it with signrawtransactionwithkey',
      );
    const tx = signTransaction(wallet, funded.tx, funded.coins);
    const txid = tx.txidHex();
    if (opts.add_to_wallet === false) return { txid, hex: bytesToHex(tx.encode()), complete: true };
    await deps.broadcast(tx);
    wallet.commitTransaction(tx);
    return { txid, complete: true };
  });
}

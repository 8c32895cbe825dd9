// fundrawtransaction with Core v29's options, result and error codes: the inputs already in the
// transaction are kept (first, in their order), the wallet's coins are added as needed (unless
// add_inputs is false) and change is added; nothing is signed or sent. Coin choice is wallet/'s
// (fund.ts), under the wallet's send lock so a send in flight keeps its coins.
import { AddressError, addressToScript } from '../primitives/address.js';
import { bytesToHex } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import { InsufficientFundsError } from '../wallet/coinselect.js';
import { checkMaxTxFee, DEFAULT_MAX_TX_FEE, fundOutputs, type PresetInput } from '../wallet/fund.js';
import { WalletError } from '../wallet/wallet.js';
import { JsonAmount, parseCoins } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import { ParamReader } from './params.js';
import { decodeTx } from './rawtx-params.js';
import type { RpcServer } from './server.js';
import { feeRateFromSatPerVb, walletRegistrar, type WalletRpcDeps } from './wallet-common.js';

/** The options Core v29's fundrawtransaction knows (camelCase and snake_case spellings). */
const FUND_OPTIONS = new Set(
  (
    'add_inputs include_unsafe minconf maxconf changeAddress change_address changePosition change_position ' +
    'change_type includeWatching include_watching inputs lockUnspents lock_unspents fee_rate feeRate ' +
    'subtractFeeFromOutputs subtract_fee_from_outputs conf_target estimate_mode replaceable solving_data ' +
    'max_tx_weight input_weights'
  ).split(' '),
);

const pick = (o: Record<string, unknown>, a: string, b: string): unknown => o[a] ?? o[b];

/** Core's COutPoint::ToString, as its "Not found pre-selected input" names it. */
const outpointText = (txid: string, vout: number) => `COutPoint(${txid.slice(0, 10)}, ${vout})`;

export function registerWalletFundMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  const maxTxFee = deps.maxTxFee ?? DEFAULT_MAX_TX_FEE;

  reg(
    'fundrawtransaction',
    ['hexstring', 'options', 'iswitness'],
    'Adds wallet coins and a change output to a raw transaction until it pays its outputs and the fee; the ' +
      'inputs already there are kept. options: {add_inputs, changeAddress, changePosition, includeWatching, ' +
      'lockUnspents, fee_rate (sat/vB) or feeRate (coins/kB), subtractFeeFromOutputs, conf_target}. Nothing ' +
      'is signed. Result: {hex, fee, changepos}.',
    (r, _c, w) => {
      const wallet = w();
      const raw = decodeTx(r.string(0), 'TX decode failed');
      if (raw.outputs.length === 0)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'TX must have at least one output');
      let o: Record<string, unknown> = {};
      let includeWatching = false;
      if (r.kind(1) === 'boolean') includeWatching = r.bool(1);
      else if (r.has(1)) {
        o = r.object(1);
        for (const k of Object.keys(o))
          if (!FUND_OPTIONS.has(k)) throw new RpcError(RpcCode.TYPE_ERROR, `Unexpected key ${k}`);
        const iw = pick(o, 'includeWatching', 'include_watching');
        if (iw !== undefined) includeWatching = bool(iw, 'includeWatching');
      }
      const changeType = o.change_type;
      if (changeType !== undefined && changeType !== 'legacy')
        throw new RpcError(
          RpcCode.INVALID_ADDRESS_OR_KEY,
          `Unknown change type '${typeof changeType === 'string' ? changeType : JSON.stringify(changeType)}'`,
        );
      let changeScript: Uint8Array | undefined;
      const changeAddress = pick(o, 'changeAddress', 'change_address');
      if (changeAddress !== undefined) {
        if (changeType !== undefined)
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            'Cannot specify both changeAddress and address_type options',
          );
        try {
          if (typeof changeAddress !== 'string') throw new AddressError('not a string');
          changeScript = addressToScript(changeAddress, wallet.prefixes);
        } catch (e) {
          if (!(e instanceof AddressError)) throw e;
          throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Change address must be a valid Tally address');
        }
      }
      const pos = pick(o, 'changePosition', 'change_position');
      let changePosition: number | undefined;
      if (pos !== undefined && pos !== -1) {
        if (typeof pos !== 'number' || !Number.isSafeInteger(pos) || pos < 0 || pos > raw.outputs.length)
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'changePosition out of bounds');
        changePosition = pos;
      }
      const feeRatePerKb = fundFeeRate(o, deps, wallet.payTxFee);
      const sffo = subtractFeeOutputs(
        pick(o, 'subtractFeeFromOutputs', 'subtract_fee_from_outputs'),
        raw.outputs.length,
      );
      const addInputs = o.add_inputs === undefined ? true : bool(o.add_inputs, 'add_inputs');
      const lock = bool(pick(o, 'lockUnspents', 'lock_unspents') ?? false, 'lockUnspents');
      return wallet.runExclusive(() => {
        const coins = new Map(wallet.listCoins().map((c) => [c.outpoint.key(), c]));
        const preset: PresetInput[] = raw.inputs.map((input) => {
          const coin = coins.get(input.prevout.key());
          const txid = input.prevout.txidHex();
          if (coin === undefined)
            throw new RpcError(
              RpcCode.WALLET_ERROR,
              `Not found pre-selected input ${outpointText(txid, input.prevout.index)}`,
            );
          if (!coin.solvable)
            throw new RpcError(
              RpcCode.WALLET_ERROR,
              `Not solvable pre-selected input ${outpointText(txid, input.prevout.index)}`,
            );
          return { input, coin };
        });
        let funded;
        try {
          funded = fundOutputs(wallet, raw.outputs, {
            feeRatePerKb,
            preset,
            addInputs,
            includeWatching,
            changeScript,
            changePosition,
            subtractFeeFrom: sffo,
            version: raw.version,
            locktime: raw.locktime,
          });
          checkMaxTxFee(funded.fee, maxTxFee);
        } catch (e) {
          // Core's FundTransaction answers every failure to fund as RPC_WALLET_ERROR.
          if (e instanceof InsufficientFundsError)
            throw new RpcError(RpcCode.WALLET_ERROR, 'Insufficient funds');
          if (e instanceof WalletError) throw new RpcError(RpcCode.WALLET_ERROR, e.message);
          throw e;
        }
        if (lock)
          wallet.setLocked(
            funded.coins.slice(preset.length).map((c) => `${c.txid}:${c.vout}`),
            true,
            false,
          );
        return {
          hex: bytesToHex(funded.tx.encode()),
          fee: new JsonAmount(funded.fee),
          changepos: funded.changeIndex,
        };
      });
    },
  );
}

function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be a boolean`);
  return v;
}

/** fee_rate (sat/vB) or feeRate (coins/kB), else settxfee's, else the estimate, else the fallback. */
function fundFeeRate(o: Record<string, unknown>, deps: WalletRpcDeps, payTxFee: bigint): bigint {
  if (o.fee_rate !== undefined && o.feeRate !== undefined)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      'Cannot specify both fee_rate (sat/vB) and feeRate (BTC/kvB)',
    );
  const target = o.conf_target ?? o.confTarget;
  if (target !== undefined && (o.fee_rate !== undefined || o.feeRate !== undefined))
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `Cannot specify both conf_target and ${o.fee_rate !== undefined ? 'fee_rate' : 'feeRate'}. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.`,
    );
  if (o.fee_rate !== undefined) return feeRateFromSatPerVb(new ParamReader([o.fee_rate], ['fee_rate']), 0);
  if (o.feeRate !== undefined) return parseCoins(o.feeRate);
  if (payTxFee > 0n) return payTxFee;
  const t = new ParamReader([target], ['conf_target']).optInt(0, 6, 1, 1008);
  return deps.estimateFeeRatePerKb?.(t) ?? deps.defaultFeeRatePerKb;
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

// Wallet RPC methods that pay or re-pay: sendmany, send, sendall, bumpfee and settxfee, with
// Core's parameters, results and error codes. Owns the fee options of
// these calls; coin choice, signing and the fee ceiling are wallet/'s, relay the injected
// broadcast's. Every send holds the wallet's send lock from coin choice to recording.
import { addressToScript } from '../primitives/address.js';
import { TxOut } from '../primitives/tx.js';
import { createBumpTransaction } from '../wallet/bump.js';
import { DEFAULT_MAX_TX_FEE, type PaymentOutput } from '../wallet/fund.js';
import { createSendAll, type SendAllRecipient } from '../wallet/sendall.js';
import type { Wallet } from '../wallet/wallet.js';
import { JsonAmount, parseCoins } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import type { RpcServer } from './server.js';
import {
  feeRateFromSatPerVb,
  pickFeeRate,
  sendPayment,
  walletRegistrar,
  type WalletRpcDeps,
} from './wallet-common.js';
import { ParamReader } from './params.js';
import { send } from './wallet-fund-methods.js';

const amount = (sats: bigint) => new JsonAmount(sats);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** {address: amount} (or send's [{address: amount}, ...]) -> outputs; Core's -5, -8 and -3 errors. */
function paymentOutputs(wallet: Wallet, raw: unknown): PaymentOutput[] {
  const pairs: [string, unknown][] = [];
  if (Array.isArray(raw)) {
    for (const o of raw) {
      if (!isObject(o)) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid parameter, outputs must be objects');
      pairs.push(...Object.entries(o));
    }
  } else if (isObject(raw)) pairs.push(...Object.entries(raw));
  else throw new RpcError(RpcCode.TYPE_ERROR, 'Expected an object of address: amount');
  if (pairs.length === 0)
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Transaction must have at least one recipient');
  const seen = new Set<string>();
  return pairs.map(([address, v]) => {
    if (address === 'data')
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Data outputs are not supported by the wallet');
    addressToScript(address, wallet.prefixes);
    if (seen.has(address))
      throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, duplicated address: ${address}`);
    seen.add(address);
    const value = parseCoins(v);
    if (value <= 0n) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount for send');
    return { address, value };
  });
}

/** sendmany's subtractfeefrom: the outputs whose address it names (others are ignored, as Core). */
function subtractFeeAddresses(r: ParamReader, i: number, outputs: PaymentOutput[]): number[] {
  if (!r.has(i)) return [];
  const names = r.array(i).map((a) => {
    if (typeof a !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, 'subtractfeefrom: expected addresses');
    return a;
  });
  return outputs.flatMap((o, k) => (names.includes(o.address) ? [k] : []));
}

/** Core's incremental relay fee when the node does not say (1 base unit per byte). */
const DEFAULT_INCREMENTAL_PER_KB = 1000n;

export function registerWalletSendMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  const maxTxFee = deps.maxTxFee ?? DEFAULT_MAX_TX_FEE;

  reg(
    'sendmany',
    [
      'dummy',
      'amounts',
      'minconf',
      'comment',
      'subtractfeefrom',
      'replaceable',
      'conf_target',
      'estimate_mode',
      'fee_rate',
      'verbose',
    ],
    'Sends to several addresses in one transaction: amounts {address: coins}; fee_rate in sat/vB. Returns the txid.',
    async (r, _c, w) => {
      if (r.has(0) && r.string(0) !== '')
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Dummy value must be set to ""');
      const wallet = w();
      const outputs = paymentOutputs(wallet, r.object(1));
      const sffo = subtractFeeAddresses(r, 4, outputs);
      const { rate, reason } = pickFeeRate(r, 8, 6, deps, wallet);
      const { tx } = await sendPayment(wallet, deps, outputs, rate, sffo);
      const txid = tx.txidHex();
      return r.optBool(9, false) ? { txid, fee_reason: reason } : txid;
    },
  );

  reg(
    'send',
    ['outputs', 'conf_target', 'estimate_mode', 'fee_rate', 'options'],
    'Sends to the outputs ([{address: coins}, ...]) in one transaction, funded as fundrawtransaction ' +
      '(its options in snake_case, with inputs [{txid, vout, sequence, weight}], locktime, add_to_wallet), ' +
      'signed and sent. Result: {txid, complete} (hex too when add_to_wallet is false).',
    async (r, _c, w) => {
      const wallet = w();
      const outputs = paymentOutputs(wallet, r.has(0) ? r.array(0) : undefined);
      return send(
        deps,
        wallet,
        r,
        outputs.map((x) => new TxOut(x.value, addressToScript(x.address, wallet.prefixes))),
      );
    },
  );

  reg(
    'sendall',
    ['recipients', 'conf_target', 'estimate_mode', 'fee_rate', 'options'],
    'Spends every spendable coin (or options.inputs) to the recipients with no change: each is an address ' +
      '(it shares the rest) or {address: coins}. Result: {complete, txid}.',
    async (r, _c, w) => {
      const wallet = w();
      const recipients: SendAllRecipient[] = r.array(0).map((x) => {
        if (typeof x === 'string') return { address: x };
        if (isObject(x) && Object.keys(x).length === 1) {
          const [address, v] = Object.entries(x)[0];
          return { address, value: parseCoins(v) };
        }
        throw new RpcError(RpcCode.TYPE_ERROR, 'recipients: expected addresses or {address: amount}');
      });
      const options = r.has(4) ? r.object(4) : {};
      let only: string[] | undefined;
      if (Array.isArray(options.inputs))
        only = options.inputs.map((i) => {
          if (!isObject(i) || typeof i.txid !== 'string' || typeof i.vout !== 'number')
            throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, inputs must be {txid, vout}');
          return `${i.txid}:${i.vout}`;
        });
      const { rate } = pickFeeRate(r, 3, 1, deps, wallet, RpcCode.INVALID_PARAMETER);
      const tx = await wallet.runExclusive(async () => {
        const made = createSendAll(wallet, recipients, rate, maxTxFee, only);
        await deps.broadcast(made.tx);
        wallet.commitTransaction(made.tx);
        return made.tx;
      });
      return { complete: true, txid: tx.txidHex() };
    },
  );

  reg(
    'settxfee',
    ['amount'],
    'Sets the fee rate (coins per 1,000 bytes) of later sends without fee_rate; 0 returns to estimation. Returns true.',
    (r, _c, w) => {
      const rate = r.amount(0);
      const min = deps.incrementalFeeRatePerKb ?? DEFAULT_INCREMENTAL_PER_KB;
      if (rate !== 0n && rate < min)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'txfee cannot be less than min relay tx fee');
      if (rate > maxTxFee)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'txfee cannot be more than wallet max tx fee');
      w().payTxFee = rate;
      return true;
    },
  );

  reg(
    'bumpfee',
    ['txid', 'options'],
    'Replaces an unconfirmed wallet send with one paying a higher fee (the pool replaces it: full RBF). ' +
      'options: {conf_target, fee_rate (sat/vB), replaceable, estimate_mode}. Result: {txid, origfee, fee, errors}.',
    async (r, _c, w) => {
      const txid = r.hex(0, 32);
      const options = r.has(1) ? r.object(1) : {};
      for (const k of Object.keys(options))
        if (!['conf_target', 'fee_rate', 'replaceable', 'estimate_mode', 'confTarget'].includes(k))
          throw new RpcError(RpcCode.TYPE_ERROR, `Unexpected key ${k}`);
      if (options.conf_target !== undefined && options.fee_rate !== undefined)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.',
        );
      const opt = new ParamReader([options.fee_rate, options.conf_target], ['fee_rate', 'conf_target']);
      const feeRatePerKb = opt.has(0) ? feeRateFromSatPerVb(opt, 0) : undefined;
      const target = opt.optInt(1, 6, 1, 1008);
      const wallet = w();
      return wallet.runExclusive(async () => {
        const bumped = createBumpTransaction(wallet, txid, {
          feeRatePerKb,
          estimatePerKb: deps.estimateFeeRatePerKb?.(target) ?? null,
          incrementalPerKb: deps.incrementalFeeRatePerKb ?? DEFAULT_INCREMENTAL_PER_KB,
          hasPoolDescendants: deps.hasPoolDescendants ?? (() => false),
          maxTxFee,
        });
        await deps.broadcast(bumped.tx);
        wallet.commitTransaction(bumped.tx);
        const newTxid = bumped.tx.txidHex();
        wallet.markReplaced(txid, newTxid);
        return { txid: newTxid, origfee: amount(bumped.origFee), fee: amount(bumped.fee), errors: [] };
      });
    },
  );
}

// Wallet RPC methods that pay or re-pay: bumpfee (and later sendmany, send, sendall, settxfee,
// fundrawtransaction), with Core's parameters, results and error codes. Owns the fee options of
// these calls; coin choice, signing and the fee ceiling are wallet/'s, relay the injected
// broadcast's. Every send holds the wallet's send lock from coin choice to recording.
import { createBumpTransaction } from '../wallet/bump.js';
import { DEFAULT_MAX_TX_FEE } from '../wallet/fund.js';
import { JsonAmount } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import type { RpcServer } from './server.js';
import { feeRateFromSatPerVb, walletRegistrar, type WalletRpcDeps } from './wallet-common.js';
import { ParamReader } from './params.js';

const amount = (sats: bigint) => new JsonAmount(sats);

/** Core's incremental relay fee when the node does not say (1 base unit per byte). */
const DEFAULT_INCREMENTAL_PER_KB = 1000n;

export function registerWalletSendMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);
  const maxTxFee = deps.maxTxFee ?? DEFAULT_MAX_TX_FEE;

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

// The signing raw-transaction methods with Bitcoin Core's names, parameters, results and errors
// (rpc/rawtransaction.cpp, rawtransaction_util.cpp, wallet/rpc/spend.cpp):
// signrawtransactionwithwallet, signrawtransactionwithkey and combinerawtransaction. Owns: finding
// the coins spent (the pool, the UTXO set, prevtxs), Core's per-input error texts and the result
// shape. Does not own the signing itself (script/sign.ts, wallet/signing.ts). Fails with RpcError:
// -22 undecodable, -5 bad key, -8 bad parameter, -3 wrong type, -13 wallet locked, -25 missing input.
import type { ChainParams } from '../consensus/params.js';
import { hash160 } from '../crypto/hash.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { AddressError, decodeWif } from '../primitives/address.js';
import { bytesToHex, equalBytes } from '../primitives/bytes.js';
import { type Tx, TxOut } from '../primitives/tx.js';
import { scriptToAsm } from '../script/asm.js';
import { ScriptError } from '../script/errors.js';
import { STANDARD_SCRIPT_FLAGS } from '../script/flags.js';
import { verifyInput } from '../script/interpreter.js';
import { SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE } from '../script/sighash.js';
import {
  dataFromTransaction,
  EMPTY_PROVIDER,
  mergeSignatureData,
  produceSignature,
  type SigningProvider,
  withScriptSig,
} from '../script/sign.js';
import { classifyScript } from '../script/standard.js';
import { signWalletInputs } from '../wallet/signing.js';
import { parseCoins } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, type ParamReader } from './params.js';
import type { ChainPort, MempoolPort, WalletsPort } from './ports.js';
import { decodeTx, hashField, hexParam, isObject } from './rawtx-params.js';
import type { RpcServer } from './server.js';
import { walletName, walletRpcError } from './wallet-methods.js';

/** What the signing methods read: coins from the chain and the pool, keys from the wallets. */
export interface RawTxSignDeps {
  chain: Pick<ChainPort, 'getCoins'>;
  mempool: Pick<MempoolPort, 'get'>;
  params: ChainParams;
  /** Without wallets, signrawtransactionwithwallet is not registered (Core built without a wallet). */
  wallets?: WalletsPort;
}

const SIGHASH_NAMES: Record<string, number> = {
  ALL: SIGHASH_ALL,
  NONE: SIGHASH_NONE,
  SINGLE: SIGHASH_SINGLE,
  'ALL|ANYONECANPAY': SIGHASH_ALL | SIGHASH_ANYONECANPAY,
  'NONE|ANYONECANPAY': SIGHASH_NONE | SIGHASH_ANYONECANPAY,
  'SINGLE|ANYONECANPAY': SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
};

/** Core's ScriptErrorString for the failures an unsigned or half-signed input shows. */
const SCRIPT_ERROR_TEXT: Partial<Record<string, string>> = {
  EVAL_FALSE: 'Script evaluated without error but finished with a false/empty top stack element',
  EQUALVERIFY: 'Script failed an OP_EQUALVERIFY operation',
  CHECKSIGVERIFY: 'Script failed an OP_CHECKSIGVERIFY operation',
  SIG_DER: 'Non-canonical DER signature',
  SIG_PUSHONLY: 'Only push operators allowed in signatures',
  PUBKEYTYPE: 'Public key is neither compressed or uncompressed',
  CLEANSTACK: 'Stack size must be exactly one after execution',
};

/** Core's text for a failed input check (SignTransaction). */
function scriptErrorText(e: ScriptError): string {
  if (e.code === 'INVALID_STACK_OPERATION')
    return 'Unable to sign input, invalid stack size (possibly missing key)';
  if (e.code === 'NULLFAIL')
    return 'CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)';
  return SCRIPT_ERROR_TEXT[e.code] ?? e.message;
}

/** Core's sighashtype parameter (ParseSighashString); DEFAULT is ALL outside Taproot. */
function sighashParam(r: ParamReader, i: number): number {
  if (!r.has(i)) return SIGHASH_ALL;
  const name = r.string(i);
  const type = name === 'DEFAULT' ? SIGHASH_ALL : SIGHASH_NAMES[name];
  if (type === undefined)
    throw new RpcError(RpcCode.INVALID_PARAMETER, `'${name}' is not a valid sighash parameter.`);
  return type;
}

/**
 * Core's SignTransactionResultToJSON: the hex, whether every input verifies under the standard
 * flags, and for each one that does not, its outpoint, scriptSig, sequence and Core's error text.
 */
function signResult(tx: Tx, coins: readonly (PrevCoin | undefined)[]): Record<string, unknown> {
  const errors: Record<string, unknown>[] = [];
  tx.inputs.forEach((input, i) => {
    const coin = coins[i];
    let error: string | null = null;
    if (coin === undefined) error = 'Input not found or already spent';
    else {
      try {
        verifyInput(tx, i, new TxOut(coin.value, coin.script), STANDARD_SCRIPT_FLAGS);
      } catch (e) {
        if (!(e instanceof ScriptError)) throw e;
        error = scriptErrorText(e);
      }
    }
    if (error !== null)
      errors.push({
        txid: input.prevout.txidHex(),
        vout: input.prevout.index,
        witness: [],
        scriptSig: bytesToHex(input.scriptSig),
        sequence: input.sequence,
        error,
      });
  });
  return {
    hex: bytesToHex(tx.encode()),
    complete: errors.length === 0,
    errors: errors.length > 0 ? errors : undefined,
  };
}

interface PrevCoin {
  value: bigint;
  script: Uint8Array;
}

/** Registers the signing methods (rawtx-methods.ts calls it, so the methods keep their order). */
export function registerRawTxSignMethods(server: RpcServer, deps: RawTxSignDeps): void {
  const { chain, mempool, params } = deps;
  const prefixes = params.prefixes;
  const reg = methodRegistrar(server);

  /** Prevouts from the pool (unconfirmed parents) and the chain's UTXO set, in input order. */
  const findCoins = async (tx: Tx): Promise<(PrevCoin | undefined)[]> => {
    const ops = tx.inputs.map((i) => i.prevout);
    const confirmed = await chain.getCoins(ops);
    return ops.map((op, n) => {
      const parent = mempool.get(op.hash);
      const o = parent?.tx.outputs[op.index];
      if (o !== undefined) return { value: o.value, script: o.scriptPubKey };
      const c = confirmed[n];
      return c === undefined ? undefined : { value: c.value, script: c.script };
    });
  };

  if (deps.wallets !== undefined) {
    const wallets = deps.wallets;
    reg(
      'signrawtransactionwithwallet',
      ['hexstring', 'prevtxs', 'sighashtype'],
      "Signs the inputs the wallet's keys can sign (P2PKH, P2SH multisig); prevouts come from the UTXO set, the pool, " +
        'or prevtxs [{txid, vout, scriptPubKey, amount}]. Result: {hex, complete, errors}.',
      async (r, _raw, ctx) => {
        const wallet = (() => {
          try {
            const w = wallets.get(walletName(ctx));
            w.requireUnlocked();
            return w;
          } catch (e) {
            throw walletRpcError(e);
          }
        })();
        const unsigned = decodeTx(r.string(0));
        const hashType = sighashParam(r, 2);
        const coins = await findCoins(unsigned);
        if (r.has(1)) applyPrevTxs(unsigned, coins, r.array(1));
        const tx = signWalletInputs(
          wallet,
          unsigned,
          coins.map((c) => c?.script),
          hashType,
        );
        return signResult(tx, coins);
      },
    );
  }

  reg(
    'signrawtransactionwithkey',
    ['hexstring', 'privkeys', 'prevtxs', 'sighashtype'],
    'Signs inputs with the given WIF keys (P2PKH, P2PK, bare and P2SH multisig, redeemScript in prevtxs), keeping ' +
      'signatures already there. Result: {hex, complete, errors}.',
    async (r) => {
      const unsigned = decodeTx(r.string(0), 'TX decode failed. Make sure the tx has at least one input.');
      const keys = new Map<string, { privateKey: Uint8Array; publicKey: Uint8Array }>();
      for (const k of r.array(1)) {
        if (typeof k !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, 'privkeys must be strings (WIF)');
        let key: ReturnType<typeof decodeWif>;
        try {
          key = decodeWif(k, prefixes);
        } catch (e) {
          if (e instanceof AddressError)
            throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid private key');
          throw e;
        }
        const publicKey = publicKeyFromPrivate(key.privateKey, key.compressed);
        keys.set(bytesToHex(hash160(publicKey)), { privateKey: key.privateKey, publicKey });
      }
      const scripts = new Map<string, Uint8Array>();
      const coins = await findCoins(unsigned);
      if (r.has(2)) applyPrevTxs(unsigned, coins, r.array(2), scripts);
      const hashType = sighashParam(r, 3);
      const provider: SigningProvider = {
        key: (id) => keys.get(bytesToHex(id)),
        script: (id) => scripts.get(bytesToHex(id)),
      };
      const single = (hashType & 0x1f) === SIGHASH_SINGLE;
      let tx = unsigned;
      coins.forEach((coin, i) => {
        // Core signs SIGHASH_SINGLE only where there is a matching output.
        if (coin === undefined || (single && i >= tx.outputs.length)) return;
        const prevOut = new TxOut(coin.value, coin.script);
        const data = dataFromTransaction(tx, i, prevOut);
        tx = withScriptSig(tx, i, produceSignature(tx, i, prevOut, provider, hashType, data).scriptSig);
      });
      return signResult(tx, coins);
    },
  );

  reg(
    'combinerawtransaction',
    ['txs'],
    'Combines partially signed versions of one transaction (multisig signatures from several signers) into one; ' +
      'returns its hex.',
    async (r) => {
      const list = r.array(0);
      const variants = list.map((h, i) => {
        if (typeof h !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'txs must be an array of hex strings');
        return decodeTx(h, `TX decode failed for tx ${i}. Make sure the tx has at least one input.`);
      });
      if (variants.length === 0) throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Missing transactions');
      let merged = variants[0];
      const coins = await findCoins(merged);
      coins.forEach((coin, i) => {
        if (coin === undefined) throw new RpcError(RpcCode.VERIFY_ERROR, 'Input not found or already spent');
        const prevOut = new TxOut(coin.value, coin.script);
        const data = variants
          .filter((v) => v.inputs.length > i)
          .map((v) => dataFromTransaction(v, i, prevOut))
          .reduce(mergeSignatureData);
        const { scriptSig } = produceSignature(merged, i, prevOut, EMPTY_PROVIDER, SIGHASH_ALL, data);
        merged = withScriptSig(merged, i, scriptSig);
      });
      return bytesToHex(merged.encode());
    },
  );

  /**
   * Core's ParsePrevouts: prevtxs entries fill in coins the node does not know (a known coin must
   * match); with `scripts` (signing with given keys) a P2SH entry must bring its redeemScript.
   */
  function applyPrevTxs(
    tx: Tx,
    coins: (PrevCoin | undefined)[],
    prevtxs: unknown[],
    scripts?: Map<string, Uint8Array>,
  ): void {
    for (const p of prevtxs) {
      if (!isObject(p))
        throw new RpcError(
          RpcCode.DESERIALIZATION_ERROR,
          'expected object with {"txid\'","vout","scriptPubKey"}',
        );
      for (const key of ['txid', 'vout', 'scriptPubKey'])
        if (p[key] === undefined) throw new RpcError(RpcCode.TYPE_ERROR, `Missing ${key}`);
      const hash = hashField(p.txid, 'txid');
      const vout = p.vout;
      if (typeof vout !== 'number' || !Number.isInteger(vout))
        throw new RpcError(RpcCode.TYPE_ERROR, 'vout must be a number');
      if (vout < 0) throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'vout cannot be negative');
      const script = hexParam(p.scriptPubKey, 'scriptPubKey');
      const value = p.amount === undefined ? 0n : parseCoins(p.amount);
      tx.inputs.forEach((input, i) => {
        if (input.prevout.index !== vout || !equalBytes(input.prevout.hash, hash)) return;
        const known = coins[i];
        if (known !== undefined && !equalBytes(known.script, script))
          throw new RpcError(
            RpcCode.DESERIALIZATION_ERROR,
            `Previous output scriptPubKey mismatch:\n${scriptToAsm(known.script)}\nvs:\n${scriptToAsm(script)}`,
          );
        coins[i] = known ?? { value, script };
      });
      const p2sh = classifyScript(script);
      if (scripts === undefined || p2sh.type !== 'scripthash') continue;
      // Core takes witnessScript first; without SegWit it can only be the P2SH redeem script.
      const given = p.witnessScript ?? p.redeemScript;
      if (given === undefined)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Missing redeemScript/witnessScript');
      const redeem = hexParam(given, p.witnessScript !== undefined ? 'witnessScript' : 'redeemScript');
      if (!equalBytes(hash160(redeem), p2sh.hash))
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'redeemScript/witnessScript does not match scriptPubKey',
        );
      scripts.set(bytesToHex(p2sh.hash), redeem);
    }
  }
}

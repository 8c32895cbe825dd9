// Raw-transaction RPC methods with Bitcoin Core's names, parameters, result fields and error codes
// (rpc/rawtransaction.cpp, rpc/mempool.cpp, wallet/rpc/spend.cpp). Owns: decoding and building
// transactions, signing with wallet keys, and mapping mempool rejections onto Core's codes. Does
// not own relay: `broadcast` (accept + relay) is injected. Fails with RpcError: -22 undecodable,
// -5 not found, -8 bad parameter, -3 wrong type, -13 wallet locked, -25/-26/-27 rejected.
import type { ChainParams } from '../consensus/params.js';
import { Reason, RejectError } from '../consensus/errors.js';
import { hash160 } from '../crypto/hash.js';
import { PolicyReason } from '../mempool/policy.js';
import { AddressError, addressToScript, decodeWif, scriptToAddress } from '../primitives/address.js';
import { bytesToHex, equalBytes, hashFromHex, hexToBytes, reverseHex } from '../primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../primitives/tx.js';
import { scriptToAsm } from '../script/asm.js';
import { ScriptError } from '../script/errors.js';
import { STANDARD_SCRIPT_FLAGS } from '../script/flags.js';
import { verifyInput } from '../script/interpreter.js';
import { isUnspendable } from '../script/script.js';
import { SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE } from '../script/sighash.js';
import { classifyScript, nullDataScript, p2shScript } from '../script/standard.js';
import {
  dataFromTransaction,
  EMPTY_PROVIDER,
  mergeSignatureData,
  produceSignature,
  type SigningProvider,
  withScriptSig,
} from '../script/sign.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { signWalletInputs } from '../wallet/signing.js';
import { isChildWithParentsTree, MAX_PACKAGE_COUNT } from '../mempool/package.js';
import { JsonAmount, formatCoins, parseCoins } from './amount.js';
import { hashParam, scriptType, type SpentOutput, txJson, verbosity } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, ParamReader } from './params.js';
import type { BlockInfo, ChainPort, MempoolPort, WalletsPort } from './ports.js';
import type { RpcServer } from './server.js';
import { walletName, walletRpcError } from './wallet-methods.js';

export interface RawTxRpcDeps {
  chain: ChainPort;
  mempool: MempoolPort;
  params: ChainParams;
  /** Without wallets, signrawtransactionwithwallet is not registered (Core built without a wallet). */
  wallets?: WalletsPort;
  /** Accepts into the mempool and relays; throws RpcError with Core's code (see mempoolRejectToRpc). */
  broadcast: (tx: Tx) => Promise<void>;
  /** With txindex: the hash of the block holding a txid (internal byte order). */
  txIndexBlock?: (txid: Uint8Array) => Promise<Uint8Array | undefined>;
}

/** Core's DEFAULT_MAX_RAW_TX_FEE_RATE: 0.10 coins per 1000 bytes. */
export const DEFAULT_MAX_RAW_TX_FEE_RATE = 10_000_000n;
const MAX_SEQUENCE = 0xffffffff;
/** BIP125's highest opt-in sequence. */
const MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;

/**
 * A mempool rejection -> Core's RPC error: missing inputs -25, outputs already confirmed -27,
 * anything else -26 with Core's "reason, debug" text. Other errors are returned unchanged.
 */
export function mempoolRejectToRpc(e: unknown): unknown {
  if (!(e instanceof RejectError)) return e;
  // Core reports both a coin it cannot find and an output index its unconfirmed parent lacks as
  // missing inputs.
  if (e.reason === PolicyReason.MISSING_INPUTS || e.reason === Reason.INPUTS_MISSINGORSPENT)
    return new RpcError(RpcCode.VERIFY_ERROR, Reason.INPUTS_MISSINGORSPENT);
  if (e.reason === PolicyReason.ALREADY_KNOWN)
    return new RpcError(RpcCode.VERIFY_ALREADY_IN_CHAIN, 'Transaction outputs already in utxo set');
  return new RpcError(RpcCode.VERIFY_REJECTED, e.debug ? `${e.reason}, ${e.debug}` : e.reason);
}

export function decodeTx(hex: string, message = 'TX decode failed'): Tx {
  try {
    return Tx.decode(hexToBytes(hex));
  } catch {
    throw new RpcError(RpcCode.DESERIALIZATION_ERROR, message);
  }
}

/** A hex parameter in Core's ParseHexV wording (-8). */
export function hexParam(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value))
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `${name} must be hexadecimal string (not '${String(value)}')`,
    );
  return hexToBytes(value);
}

function hashField(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be a string`);
  if (value.length !== 64)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${value.length}, for '${value}')`,
    );
  return hexParam(value, name).reverse();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The maxfeerate parameter: coins per 1000 bytes; 0 turns the check off. */
function maxFeeRate(r: ParamReader, i: number): bigint {
  return r.has(i) ? r.amount(i) : DEFAULT_MAX_RAW_TX_FEE_RATE;
}

const feeTooHigh = (fee: bigint, size: number, max: bigint): boolean =>
  max > 0n && fee * 1000n > max * BigInt(size);

const SIGHASH_NAMES: Record<string, number> = {
  ALL: SIGHASH_ALL,
  NONE: SIGHASH_NONE,
  SINGLE: SIGHASH_SINGLE,
  'ALL|ANYONECANPAY': SIGHASH_ALL | SIGHASH_ANYONECANPAY,
  'NONE|ANYONECANPAY': SIGHASH_NONE | SIGHASH_ANYONECANPAY,
  'SINGLE|ANYONECANPAY': SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
};

function parseInputs(list: unknown[], locktime: number, replaceable: boolean): TxIn[] {
  return list.map((input) => {
    if (!isObject(input)) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid parameter, inputs must be objects');
    const hash = hashField(input.txid, 'txid');
    const vout = input.vout;
    if (vout === undefined)
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, missing vout key');
    if (typeof vout !== 'number' || !Number.isInteger(vout))
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout must be a number');
    if (vout < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout cannot be negative');
    if (vout > 0xffffffff)
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout out of range');
    let sequence = replaceable ? MAX_BIP125_RBF_SEQUENCE : locktime !== 0 ? MAX_SEQUENCE - 1 : MAX_SEQUENCE;
    if (input.sequence !== undefined) {
      const s = input.sequence;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_SEQUENCE)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, sequence number is out of range');
      sequence = s;
    }
    return new TxIn(new OutPoint(hash, vout), new Uint8Array(0), sequence);
  });
}

function parseOutputs(outputs: unknown, prefixes: ChainParams['prefixes']): TxOut[] {
  const pairs: [string, unknown][] = [];
  if (Array.isArray(outputs)) {
    for (const o of outputs) {
      if (!isObject(o) || Object.keys(o).length !== 1)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'Invalid parameter, key-value pair must contain exactly one key',
        );
      pairs.push(Object.entries(o)[0]);
    }
  } else if (isObject(outputs)) pairs.push(...Object.entries(outputs));
  else
    throw new RpcError(
      RpcCode.TYPE_ERROR,
      'Invalid parameter, outputs must be an object or an array of key-value pairs',
    );
  const seen = new Set<string>();
  const out: TxOut[] = [];
  for (const [key, value] of pairs) {
    if (key === 'data') {
      if (seen.has(key))
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, duplicate key: data');
      seen.add(key);
      out.push(new TxOut(0n, nullDataScript(hexParam(value, 'Data'))));
      continue;
    }
    let script: Uint8Array;
    try {
      script = addressToScript(key, prefixes);
    } catch (e) {
      if (e instanceof AddressError)
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid Tally address: ${key}`);
      throw e;
    }
    if (seen.has(key))
      throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, duplicated address: ${key}`);
    seen.add(key);
    out.push(new TxOut(parseCoins(value), script));
  }
  return out;
}

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

export function registerRawTxMethods(server: RpcServer, deps: RawTxRpcDeps): void {
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

  reg(
    'getrawtransaction',
    ['txid', 'verbosity', 'blockhash'],
    'A transaction from the mempool, or from the block blockhash: hex, or JSON with verbosity 1.',
    async (r, raw) => {
      const txid = hashParam(r, 0, 'txid');
      const level = verbosity(raw, r, 1, 0, 2);
      if (txid === params.genesis.txs[0].txidHex())
        throw new RpcError(
          RpcCode.INVALID_ADDRESS_OR_KEY,
          'The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved',
        );
      let tx: Tx | undefined;
      let blockFields: Record<string, unknown> = {};
      let spent: SpentOutput[] | undefined;
      let entry: BlockInfo | undefined;
      if (r.has(2)) {
        entry = chain.getEntry(hashParam(r, 2, 'blockhash'));
        if (entry === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block hash not found');
      } else {
        tx = mempool.get(hashFromHex(txid))?.tx;
        if (tx === undefined && deps.txIndexBlock) {
          // Core: the pool first, then the txindex.
          const hash = await deps.txIndexBlock(hashFromHex(txid));
          entry = hash && chain.getEntry(hash);
          if (entry === undefined)
            throw new RpcError(
              RpcCode.INVALID_ADDRESS_OR_KEY,
              'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
            );
        } else if (tx === undefined)
          throw new RpcError(
            RpcCode.INVALID_ADDRESS_OR_KEY,
            'No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. ' +
              'Use gettransaction for wallet transactions.',
          );
      }
      if (entry !== undefined) {
        const block = await chain.getBlock(entry.hash);
        if (block === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Block not available');
        const index = block.txs.findIndex((t) => t.txidHex() === txid);
        tx = block.txs[index];
        // Verbosity 2: the fee and each input's prevout from the block's undo data, as Core.
        if (level === 2 && index > 0) spent = (await chain.getUndo(entry.hash))?.[index - 1];
        if (tx === undefined)
          throw new RpcError(
            RpcCode.INVALID_ADDRESS_OR_KEY,
            'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
          );
        const active = chain.isOnActiveChain(entry);
        blockFields = {
          ...(r.has(2) ? { in_active_chain: active } : {}),
          blockhash: entry.hashHex,
          confirmations: active ? chain.height - entry.height + 1 : 0,
          time: entry.header.time,
          blocktime: entry.header.time,
        };
      }
      if (tx === undefined) throw new RpcError(RpcCode.INTERNAL_ERROR, 'transaction not found');
      const hex = bytesToHex(tx.encode());
      if (level === 0) return hex;
      return { ...txJson(tx, prefixes, { spent, prevouts: true }), hex, ...blockFields };
    },
  );

  reg('decoderawtransaction', ['hexstring'], 'The JSON form of a serialized transaction.', (r) =>
    txJson(decodeTx(r.string(0)), prefixes),
  );

  reg('decodescript', ['hexstring'], 'Disassembles a script: asm, type, address, p2sh.', (r) => {
    const script = hexParam(r.string(0), 'argument');
    const type = scriptType(script);
    const address = scriptToAddress(script, prefixes);
    const asm = scriptToAsm(script);
    const unspendable = isUnspendable(script);
    // Core offers the P2SH wrapping only for scripts that could be redeemed that way.
    const wrappable =
      ['pubkey', 'pubkeyhash', 'multisig', 'nonstandard'].includes(type) &&
      !unspendable &&
      !asm.includes('[error]');
    return {
      asm,
      type,
      address: address ?? undefined,
      p2sh: wrappable ? scriptToAddress(p2shScript(hash160(script)), prefixes) : undefined,
    };
  });

  reg(
    'createrawtransaction',
    ['inputs', 'outputs', 'locktime', 'replaceable'],
    'An unsigned transaction (hex) spending inputs [{txid, vout, sequence}] to outputs ' +
      '{address: amount, data: hex} or [{address: amount}, {data: hex}].',
    (r, rawParams) => {
      const inputs = r.array(0);
      if (!r.has(1))
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, output argument must be non-null');
      const locktime = r.has(2) ? r.int(2) : 0;
      if (locktime < 0 || locktime > 0xffffffff)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, locktime out of range');
      const replaceable = r.optBool(3, false);
      const tx = new Tx(
        2,
        parseInputs(inputs, locktime, replaceable),
        parseOutputs(rawParams[1], prefixes),
        locktime,
      );
      return bytesToHex(tx.encode());
    },
  );

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

  reg(
    'sendrawtransaction',
    ['hexstring', 'maxfeerate'],
    'Submits a signed transaction to the pool and relays it; returns its txid. maxfeerate in coins ' +
      'per 1000 bytes (default 0.10; 0 = no limit).',
    async (r) => {
      const tx = decodeTx(r.string(0), 'TX decode failed. Make sure the tx has at least one input.');
      const max = maxFeeRate(r, 1);
      const txid = tx.txidHex();
      // Already in the pool: Core answers with the txid (and would relay it again).
      if (mempool.has(tx.txid())) return txid;
      let fee: bigint;
      try {
        fee = (await mempool.accept(tx, { testOnly: true })).fee;
      } catch (e) {
        throw mempoolRejectToRpc(e);
      }
      if (feeTooHigh(fee, tx.size, max))
        throw new RpcError(
          RpcCode.VERIFY_ERROR,
          `Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate): fee ${formatCoins(fee)} for ` +
            `${tx.size} bytes is ${formatCoins((fee * 1000n) / BigInt(tx.size))} coins/kB, above maxfeerate ` +
            `${formatCoins(max)}; pass a higher maxfeerate (0 for no limit) to allow it`,
        );
      await deps.broadcast(tx);
      return txid;
    },
  );

  reg(
    'testmempoolaccept',
    ['rawtxs', 'maxfeerate'],
    'Whether the pool would accept each transaction now, without adding it: ' +
      '[{txid, wtxid, allowed, vsize, fees: {base}, reject-reason}]. Each is checked on its own.',
    async (r) => {
      const rawtxs = r.array(0);
      if (rawtxs.length < 1 || rawtxs.length > 25)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Array must contain between 1 and 25 transactions.');
      const max = maxFeeRate(r, 1);
      const txs = rawtxs.map((h) => {
        if (typeof h !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'rawtxs must be an array of hex strings');
        return decodeTx(h, `TX decode failed: ${h} Make sure the tx has at least one input.`);
      });
      const out: Record<string, unknown>[] = [];
      for (const tx of txs) {
        const txid = tx.txidHex();
        const base = { txid, wtxid: txid };
        try {
          const e = await mempool.accept(tx, { testOnly: true });
          if (feeTooHigh(e.fee, e.size, max))
            out.push({ ...base, allowed: false, 'reject-reason': 'max-fee-exceeded' });
          else out.push({ ...base, allowed: true, vsize: e.size, fees: { base: new JsonAmount(e.fee) } });
        } catch (err) {
          if (!(err instanceof RejectError)) throw err;
          out.push({ ...base, allowed: false, 'reject-reason': err.reason });
        }
      }
      return out;
    },
  );

  reg(
    'submitpackage',
    ['package', 'maxfeerate', 'maxburnamount'],
    'Submits a child with its unconfirmed parents (sorted, up to 25) to the pool and relays what enters; a parent ' +
      "too cheap alone enters with its child at the package's fee rate. Result: {package_msg, tx-results, replaced-transactions}.",
    async (r) => {
      const raw = r.array(0);
      if (raw.length < 1 || raw.length > MAX_PACKAGE_COUNT)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          `Array must contain between 1 and ${MAX_PACKAGE_COUNT} transactions.`,
        );
      const max = maxFeeRate(r, 1);
      const maxBurn = r.has(2) ? r.amount(2) : 0n;
      const txs = raw.map((h) => {
        if (typeof h !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'package must be an array of hex strings');
        const tx = decodeTx(h, `TX decode failed: ${h} Make sure the tx has at least one input.`);
        if (tx.outputs.some((o) => isUnspendable(o.scriptPubKey) && o.value > maxBurn))
          throw new RpcError(
            RpcCode.VERIFY_ERROR,
            'Unspendable output exceeds maximum configured by user (maxburnamount)',
          );
        return tx;
      });
      if (txs.length > 1 && !isChildWithParentsTree(txs))
        throw new RpcError(
          RpcCode.VERIFY_ERROR,
          'package topology disallowed. not child-with-parents or parents depend on each other.',
        );
      const { message, results } = await mempool.acceptPackage(txs, {
        maxFeeRate: max > 0n ? max : undefined,
      });
      const txResults: Record<string, unknown> = {};
      const replaced = new Set<string>();
      for (const tx of txs) {
        const txid = tx.txidHex();
        const res = results.get(bytesToHex(tx.txid()));
        const out: Record<string, unknown> = { txid };
        if (res === undefined || res.kind === 'unevaluated') out.error = 'unevaluated';
        else if (res.kind === 'invalid')
          out.error = res.error.debug ? `${res.error.reason}, ${res.error.debug}` : res.error.reason;
        else {
          out.vsize = res.entry.size;
          // Core gives no effective fee rate for a transaction that was already in the pool.
          out.fees =
            res.kind === 'in-pool'
              ? { base: new JsonAmount(res.entry.fee) }
              : {
                  base: new JsonAmount(res.entry.fee),
                  'effective-feerate': new JsonAmount(res.effectiveFeeRate),
                  'effective-includes': res.includes.map((id) => reverseHex(hexToBytes(id))),
                };
          if (res.kind === 'valid') for (const e of res.replaced) replaced.add(e.tx.txidHex());
        }
        // Keyed by wtxid, which is the txid without SegWit.
        txResults[txid] = out;
      }
      return { package_msg: message, 'tx-results': txResults, 'replaced-transactions': [...replaced] };
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

// Raw-transaction RPC methods with Bitcoin Core's names, parameters, result fields and error codes
// (rpc/rawtransaction.cpp, rpc/mempool.cpp). Owns: decoding and building transactions, submitting
// them, and mapping mempool rejections onto Core's codes. Does not own relay: `broadcast` (accept +
// relay) is injected; nor signing (rawtx-sign-methods.ts, registered from here in Core's order).
// Fails with RpcError: -22 undecodable, -5 not found, -8 bad parameter, -3 wrong type, -13 wallet
// locked, -25/-26/-27 rejected.
import type { ChainParams } from '../consensus/params.js';
import { Reason, RejectError } from '../consensus/errors.js';
import { hash160 } from '../crypto/hash.js';
import { inferDescriptor } from './descriptor.js';
import { PolicyReason } from '../mempool/policy.js';
import { AddressError, addressToScript, scriptToAddress } from '../primitives/address.js';
import { bytesToHex, hexToBytes, hashFromHex, reverseHex } from '../primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../primitives/tx.js';
import { scriptToAsm } from '../script/asm.js';
import { isUnspendable } from '../script/script.js';
import { nullDataScript, p2shScript } from '../script/standard.js';
import { isChildWithParentsTree, MAX_PACKAGE_COUNT } from '../mempool/package.js';
import { JsonAmount, formatCoins, parseCoins } from './amount.js';
import { hashParam, scriptType, type SpentOutput, txJson, verbosity } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, type ParamReader } from './params.js';
import type { BlockInfo, ChainPort, MempoolPort } from './ports.js';
import { decodeTx, hashField, hexParam, isObject } from './rawtx-params.js';
import { type RawTxSignDeps, registerRawTxSignMethods } from './rawtx-sign-methods.js';
import type { RpcServer } from './server.js';

export { decodeTx, hexParam };

export interface RawTxRpcDeps extends RawTxSignDeps {
  chain: ChainPort;
  mempool: MempoolPort;
  /** Accepts into the mempool and relays; throws RpcError with Core's code (see mempoolRejectToRpc). */
  broadcast: (tx: Tx) => Promise<void>;
  /** Told of a transaction sendrawtransaction refused before broadcast (supervision: double spends). */
  refused?: (tx: Tx, e: unknown) => void;
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

/** The maxfeerate parameter: coins per 1000 bytes; 0 turns the check off. */
function maxFeeRate(r: ParamReader, i: number): bigint {
  return r.has(i) ? r.amount(i) : DEFAULT_MAX_RAW_TX_FEE_RATE;
}

const feeTooHigh = (fee: bigint, size: number, max: bigint): boolean =>
  max > 0n && fee * 1000n > max * BigInt(size);

/** createrawtransaction's inputs [{txid, vout, sequence}] (also send's), with Core's errors. */
export function parseInputs(list: unknown[], locktime: number, replaceable: boolean): TxIn[] {
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

export function registerRawTxMethods(server: RpcServer, deps: RawTxRpcDeps): void {
  const { chain, mempool, params } = deps;
  const prefixes = params.prefixes;
  const reg = methodRegistrar(server);

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
      desc: inferDescriptor(script, prefixes),
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

  registerRawTxSignMethods(server, deps);

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
        deps.refused?.(tx, e);
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
}

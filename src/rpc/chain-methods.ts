// Blockchain, mempool and utility RPC methods with Bitcoin Core's names, parameters, result
// fields and error codes (blockchain.cpp, mempool.cpp, fees.cpp, misc.cpp). Owns: reading the
// chain and the pool into Core's JSON shapes. Does not own any state: everything comes from the
// injected chain, pool and fee-estimator ports (ports.ts). Fails with RpcError (-5 not found, -8 bad parameter,
// -3 wrong type); a chain failure in invalidate/reconsider surfaces as -1 with its message.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainParams } from '../consensus/params.js';
import { AddressError, addressToScript } from '../primitives/address.js';
import type { Block } from '../primitives/block.js';
import { bytesToHex, hashFromHex, hexToBytes } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import { JsonAmount } from './amount.js';
import {
  chainWorkHex,
  difficultyFromBits,
  hashParam,
  headerJson,
  scriptPubKeyJson,
  targetHex,
  u32Hex,
  txJson,
  verbosity,
} from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, ParamReader } from './params.js';
import type { BlockInfo, ChainPort, FeeEstimatePort, MempoolPort, PoolEntry } from './ports.js';
import type { RpcServer } from './server.js';

export interface ChainRpcDeps {
  chain: ChainPort;
  mempool: MempoolPort;
  params: ChainParams;
  feeEstimator: FeeEstimatePort;
  syncProgress: () => { headers: number; blocks: number; syncing: boolean; fraction: number };
  isInitialBlockDownload: () => boolean;
  /** Network data directory: size_on_disk is the size of everything under it. */
  datadir: string;
  /** Core's prune_target_size: the configured target in bytes (prune=N MiB), when automatic. */
  pruneTargetSize?: number;
}

/** Core's ParseConfirmTarget limit (the fee estimator's longest horizon). */
export const MAX_CONF_TARGET = 1008;

const blockNotFound = () => new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
const amount = (sats: bigint) => new JsonAmount(sats);

/** Bytes of every file under `dir`; a file that vanishes while walking counts as zero. */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await directorySize(p);
    else if (e.isFile())
      total += await stat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** Core's entryToJSON: one pool entry as getmempoolentry and getrawmempool(true) print it. */
export function mempoolEntryJson(pool: MempoolPort, e: PoolEntry): Record<string, unknown> {
  const ancestors = [...pool.ancestors(e).values()];
  const descendants = [...pool.descendants(e).values()];
  const sum = (xs: PoolEntry[], f: (x: PoolEntry) => bigint) => xs.reduce((t, x) => t + f(x), 0n);
  const display = (x: PoolEntry) => x.tx.txidHex();
  return {
    vsize: e.size,
    weight: e.size * 4,
    time: e.time,
    height: e.height,
    descendantcount: descendants.length + 1,
    descendantsize: descendants.reduce((t, x) => t + x.size, e.size),
    ancestorcount: ancestors.length + 1,
    ancestorsize: ancestors.reduce((t, x) => t + x.size, e.size),
    wtxid: display(e),
    fees: {
      base: amount(e.fee),
      // Core's modified fees: with prioritisetransaction's deltas.
      modified: amount(pool.modifiedFee(e)),
      ancestor: amount(pool.modifiedFee(e) + sum(ancestors, (x) => pool.modifiedFee(x))),
      descendant: amount(pool.modifiedFee(e) + sum(descendants, (x) => pool.modifiedFee(x))),
    },
    depends: pool.parents(e).map(display),
    spentby: pool.children(e).map(display),
    'bip125-replaceable': false,
    unbroadcast: false,
  };
}

export function registerChainMethods(server: RpcServer, deps: ChainRpcDeps): void {
  const { chain, mempool, params } = deps;
  const prefixes = params.prefixes;
  const reg = methodRegistrar(server);

  const entryOrThrow = (r: ParamReader, i: number): BlockInfo => {
    const e = chain.getEntry(hashParam(r, i, 'blockhash'));
    if (e === undefined) throw blockNotFound();
    return e;
  };
  const confirmations = (e: BlockInfo): number =>
    chain.isOnActiveChain(e) ? chain.height - e.height + 1 : -1;
  const entryJson = (e: BlockInfo): Record<string, unknown> => {
    const next = chain.isOnActiveChain(e) ? chain.getEntryAtHeight(e.height + 1) : undefined;
    return {
      hash: e.hashHex,
      confirmations: confirmations(e),
      height: e.height,
      ...headerJson(e.header),
      mediantime: chain.medianTimePast(e),
      chainwork: chainWorkHex(e.chainWork),
      previousblockhash: e.prev?.hashHex,
      nextblockhash: next?.hashHex,
    };
  };
  const readBlock = async (e: BlockInfo): Promise<Block> => {
    if (e.isPruned()) throw new RpcError(RpcCode.MISC_ERROR, 'Block not available (pruned data)');
    const b = e.hasData() ? await chain.getBlock(e.hash) : undefined;
    if (b === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Block not available (not fully downloaded)');
    return b;
  };

  /** Core's getblockchaininfo fields of prune mode (none when off). */
  const pruneFields = (): Record<string, unknown> => {
    const mode = chain.pruneMode;
    if (!mode) return {};
    const h = chain.pruneHeight();
    return {
      pruneheight: h === null ? 0 : h + 1,
      automatic_pruning: mode.automatic,
      ...(mode.automatic ? { prune_target_size: deps.pruneTargetSize ?? 0 } : {}),
    };
  };

  reg(
    'getblockcount',
    [],
    'Height of the most-work fully-validated chain (genesis = 0).',
    () => chain.height,
  );
  reg('getbestblockhash', [], 'Hash of the tip of the best chain.', () => chain.tip.hashHex);
  reg('getdifficulty', [], 'Proof-of-work difficulty of the tip, as a multiple of 0x1d00ffff.', () =>
    difficultyFromBits(chain.tip.bits),
  );
  reg('getblockhash', ['height'], 'Hash of the best-chain block at height.', (r) => {
    const h = r.int(0);
    if (h < 0 || h > chain.height) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Block height out of range');
    return chain.getEntryAtHeight(h)!.hashHex;
  });

  reg(
    'getblockchaininfo',
    [],
    'State of the chain: network, heights, tip, difficulty, sync progress, work, disk use.',
    async () => {
      const tip = chain.tip;
      const progress = deps.syncProgress();
      return {
        chain: params.name,
        blocks: chain.height,
        headers: Math.max(chain.bestHeader.height, progress.headers),
        bestblockhash: tip.hashHex,
        bits: u32Hex(tip.bits),
        target: targetHex(tip.bits),
        difficulty: difficultyFromBits(tip.bits),
        time: tip.time,
        mediantime: chain.medianTimePast(tip),
        verificationprogress: progress.syncing ? Math.min(1, Math.max(0, progress.fraction)) : 1,
        initialblockdownload: deps.isInitialBlockDownload(),
        chainwork: chainWorkHex(tip.chainWork),
        size_on_disk: await directorySize(deps.datadir),
        pruned: chain.pruneMode !== null,
        ...pruneFields(),
        warnings: [],
      };
    },
  );

  reg(
    'getblock',
    ['blockhash', 'verbosity'],
    'A block: verbosity 0 serialized hex, 1 (default) JSON with txids, 2 JSON with decoded transactions.',
    async (r, raw) => {
      const e = entryOrThrow(r, 0);
      const level = verbosity(raw, r, 1, 1, 3);
      const block = await readBlock(e);
      if (level === 0) return bytesToHex(block.encode());
      const size = block.size;
      // Fees and prevouts come from the block's undo data, as Core's (absent for genesis).
      const undo = level >= 2 && e.height > 0 ? await chain.getUndo(e.hash) : undefined;
      const txs =
        level === 1
          ? block.txs.map((t) => t.txidHex())
          : block.txs.map((t, i) =>
              txJson(t, prefixes, {
                spent: i > 0 ? undo?.[i - 1] : undefined,
                prevouts: level === 3,
                hex: true,
              }),
            );
      return {
        ...entryJson(e),
        size,
        strippedsize: size,
        weight: size * 4,
        nTx: block.txs.length,
        tx: txs,
      };
    },
  );

  reg(
    'getblockheader',
    ['blockhash', 'verbose'],
    'A block header: verbose (default) JSON, else the 80 serialized bytes in hex.',
    async (r) => {
      const e = entryOrThrow(r, 0);
      if (!r.optBool(1, true)) return bytesToHex(e.header.encode());
      const block = e.hasData() ? await chain.getBlock(e.hash) : undefined;
      const json = entryJson(e);
      return { ...json, nTx: block?.txs.length ?? 0 };
    },
  );

  reg('getchaintips', [], 'Every known branch tip: height, hash, branchlen, status.', () =>
    chain.getChainTips(),
  );

  reg(
    'gettxout',
    ['txid', 'n', 'include_mempool'],
    'An unspent output (null when spent or unknown); include_mempool (default true) sees the pool.',
    async (r) => {
      const txid = hashParam(r, 0, 'txid');
      const n = r.int(1);
      if (n < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout cannot be negative');
      const withPool = r.optBool(2, true);
      const op = new OutPoint(hexToBytes(txid).reverse(), n);
      const tip = chain.tip;
      const out = (value: bigint, script: Uint8Array, confs: number, coinbase: boolean) => ({
        bestblock: tip.hashHex,
        confirmations: confs,
        value: amount(value),
        scriptPubKey: scriptPubKeyJson(script, prefixes),
        coinbase,
      });
      if (withPool) {
        if (mempool.spender(op) !== undefined) return null;
        const e = mempool.get(op.hash);
        if (e !== undefined) {
          const o = e.tx.outputs[n];
          return o === undefined ? null : out(o.value, o.scriptPubKey, 0, false);
        }
      }
      const coin = n <= 0xffffffff ? await chain.getCoin(op) : undefined;
      if (coin === undefined) return null;
      return out(coin.value, coin.script, tip.height - coin.height + 1, coin.coinbase);
    },
  );

  reg('getmempoolinfo', [], 'Size, bytes, fees and fee floors of the transaction pool.', () => {
    const all = mempool.all();
    return {
      loaded: true,
      size: mempool.size,
      bytes: mempool.totalBytes,
      usage: mempool.totalBytes,
      total_fee: amount(all.reduce((t, e) => t + e.fee, 0n)),
      maxmempool: mempool.maxBytes,
      mempoolminfee: amount(mempool.minFeeRate()),
      minrelaytxfee: amount(mempool.minRelayFeeRate),
      incrementalrelayfee: amount(mempool.incrementalRelayFeeRate),
      unbroadcastcount: 0,
      fullrbf: true,
    };
  });

  reg(
    'getrawmempool',
    ['verbose', 'mempool_sequence'],
    'Txids in the pool, or with verbose an object of txid -> entry (fees, sizes, ancestry).',
    (r) => {
      const verbose = r.optBool(0, false);
      if (r.optBool(1, false)) throw r.invalid(1, 'mempool_sequence is not supported');
      const all = mempool.all();
      if (!verbose) return all.map((e) => e.tx.txidHex());
      const out: Record<string, unknown> = {};
      for (const e of all) out[e.tx.txidHex()] = mempoolEntryJson(mempool, e);
      return out;
    },
  );

  // Core v29's hidden getorphantxs: txids, or per orphan its sizes, entry and expiry times and the
  // ids (getpeerinfo's) of the peers that gave it; verbosity 2 adds the hex.
  reg(
    'getorphantxs',
    ['verbosity'],
    'Orphan transactions held (0: txids, 1: details, 2: with hex).',
    (r, raw) => {
      // Core's ParseVerbosity without bools, then its range check.
      if (typeof raw[0] === 'boolean')
        throw new RpcError(RpcCode.TYPE_ERROR, 'Verbosity was boolean but only integer allowed');
      const level = r.optInt(0, 0);
      if (level < 0 || level > 2)
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid verbosity value ${level}`);
      return mempool.orphans().map((o) => {
        const txid = o.tx.txidHex();
        if (level === 0) return txid;
        const size = o.tx.size;
        const out: Record<string, unknown> = {
          txid,
          wtxid: txid,
          bytes: size,
          vsize: size,
          weight: o.weight,
          entry: o.entry,
          expiration: o.expire,
          from: [...o.from],
        };
        if (level === 2) out.hex = bytesToHex(o.tx.encode());
        return out;
      });
    },
  );

  reg('getmempoolentry', ['txid'], 'The pool entry of a transaction (see getrawmempool verbose).', (r) => {
    const e = mempool.get(hashFromHex(hashParam(r, 0, 'txid')));
    if (e === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
    return mempoolEntryJson(mempool, e);
  });

  const operator = (name: string, help: string, run: (hash: string) => Promise<void>) =>
    reg(name, ['blockhash'], help, async (r) => {
      const e = entryOrThrow(r, 0);
      try {
        await run(e.hashHex);
      } catch (err) {
        throw new RpcError(RpcCode.MISC_ERROR, err instanceof Error ? err.message : String(err));
      }
      return null;
    });
  operator('invalidateblock', 'Marks a block and its descendants invalid; the tip moves off them.', (h) =>
    chain.invalidateBlock(h),
  );
  operator('reconsiderblock', 'Clears invalid marks of a block, its ancestors and descendants.', (h) =>
    chain.reconsiderBlock(h),
  );

  reg(
    'estimatesmartfee',
    ['conf_target', 'estimate_mode'],
    'Fee rate (coins per 1000 bytes) likely to confirm within conf_target blocks (1..1008).',
    (r) => {
      const target = r.int(0);
      if (target < 1 || target > MAX_CONF_TARGET)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          `Invalid conf_target, must be between 1 and ${MAX_CONF_TARGET}`,
        );
      const mode = (r.optString(1) ?? 'economical').toLowerCase();
      if (!['unset', 'economical', 'conservative'].includes(mode))
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
        );
      const est = deps.feeEstimator.estimate(target);
      if (est === null) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
      // Never below what the pool would accept now (Core does the same).
      let rate = est.feerate;
      for (const floor of [mempool.minFeeRate(), mempool.minRelayFeeRate]) if (floor > rate) rate = floor;
      return { feerate: amount(rate), blocks: est.blocks };
    },
  );

  reg('validateaddress', ['address'], 'Whether an address is valid here, and its output script.', (r) => {
    const address = r.string(0);
    try {
      const script = addressToScript(address, prefixes);
      return {
        isvalid: true,
        address,
        scriptPubKey: bytesToHex(script),
        isscript: script.length === 23,
        iswitness: false,
      };
    } catch (e) {
      if (!(e instanceof AddressError)) throw e;
      return { isvalid: false, error_locations: [], error: e.message };
    }
  });
}

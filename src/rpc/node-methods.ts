// The rest of Core's node-side Blockchain, Mining and Control methods (blockchain.cpp,
// mempool.cpp, mining.cpp, node.cpp): block and chain statistics, deployments, pool ancestry and
// spends, mempool.dat on demand, header submission, chain verification and the waitfor* calls.
// Owns only the reply shapes, parameters and error codes, which follow Bitcoin Core v29's; the
// chain, pool and files are reached through the ports and functions given here. Fails with
// RpcError (-5 not found, -8 bad parameter, -22 undecodable, -25 refused header, -1 otherwise).
import type { ChainParams } from '../consensus/params.js';
import { BlockHeader } from '../primitives/block.js';
import { hashFromHex, hexToBytes } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import { BLOCK_STATS, blockStats } from './block-stats.js';
import {
  chainTxCounter,
  difficultyFromBits,
  hashOrHeightParam,
  hashParam,
  targetHex,
  u32Hex,
} from './chain-json.js';
import { mempoolEntryJson } from './chain-methods.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, type ParamReader } from './params.js';
import type { BlockInfo, ChainPort, EventHooks, MempoolPort } from './ports.js';
import type { RpcContext, RpcServer } from './server.js';

/** Core's TIMESTAMP_WINDOW: the slack of a time given to pruneblockchain. */
const TIMESTAMP_WINDOW = 7200;

export interface NodeRpcDeps {
  chain: ChainPort;
  mempool: MempoolPort;
  params: ChainParams;
  syncProgress: () => { headers: number; syncing: boolean; fraction: number };
  isInitialBlockDownload: () => boolean;
  /** Bytes held by the coins cache (Core's coins_tip_cache_bytes). */
  coinsCacheBytes: () => number;
  /** Writes mempool.dat now; returns its path. */
  saveMempool: () => Promise<string>;
  /** Adds the transactions (and, if asked, the fee deltas) of a mempool.dat file to the pool. */
  importMempool: (path: string, opts: ImportMempoolOptions) => Promise<void>;
}

/** importmempool's options, Core's names; its defaults are true, false, false. */
export interface ImportMempoolOptions {
  useCurrentTime: boolean;
  applyFeeDeltaPriority: boolean;
  applyUnbroadcastSet: boolean;
}

const IMPORT_OPTIONS = {
  use_current_time: 'useCurrentTime',
  apply_fee_delta_priority: 'applyFeeDeltaPriority',
  apply_unbroadcast_set: 'applyUnbroadcastSet',
} as const;

/** Calls waiting in waitfor* at once; Core bounds them by its RPC work queue (-rpcworkqueue=16 x threads). */
export const MAX_BLOCK_WAITERS = 64;

export function registerNodeMethods(server: RpcServer, deps: NodeRpcDeps): EventHooks {
  const { chain, mempool, params } = deps;
  const reg = methodRegistrar(server);
  const blockNotFound = () => new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');

  const activeAt = (r: ParamReader, raw: unknown[], i: number): BlockInfo => {
    const e = hashOrHeightParam(chain, r, raw, i, 'blockhash');
    if (!chain.isOnActiveChain(e))
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Block is not in main chain');
    return e;
  };

  reg('getblockstats', ['hash_or_height', 'stats'], '', async (r, raw) => {
    if (typeof raw[0] !== 'number' && typeof raw[0] !== 'string')
      throw new RpcError(RpcCode.TYPE_ERROR, 'hash_or_height must be a number or a string');
    const e = activeAt(r, raw, 0);
    const wanted = r.has(1) ? r.array(1) : [];
    for (const s of wanted)
      if (typeof s !== 'string' || !(BLOCK_STATS as readonly string[]).includes(s))
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid selected statistic '${String(s)}'`);
    const block = await chain.getBlock(e.hash);
    if (block === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Block not available (pruned data)');
    const undo = e.height > 0 ? await chain.getUndo(e.hash) : [];
    if (undo === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Undo data not available (pruned data)');
    const all = blockStats(block, undo, {
      height: e.height,
      hashHex: e.hashHex,
      medianTime: chain.medianTimePast(e),
      params,
    });
    if (wanted.length === 0) return all;
    return Object.fromEntries((wanted as string[]).map((k) => [k, all[k as keyof typeof all]]));
  });

  const chainTxCount = chainTxCounter(chain);

  reg('getchaintxstats', ['nblocks', 'blockhash'], '', async (r) => {
    let e = chain.tip;
    if (r.has(1)) {
      const found = chain.getEntry(hashParam(r, 1, 'blockhash'));
      if (found === undefined) throw blockNotFound();
      if (!chain.isOnActiveChain(found))
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Block is not in main chain');
      e = found;
    }
    const month = Math.floor((30 * 24 * 60 * 60) / params.targetSpacing);
    const n = r.has(0) ? r.int(0) : Math.max(0, Math.min(month, e.height - 1));
    if (n < 0 || (n > 0 && n >= e.height))
      throw new RpcError(
        RpcCode.INVALID_PARAMETER,
        "Invalid block count: should be between 0 and the block's height - 1",
      );
    const txcount = await chainTxCount(e);
    const out: Record<string, unknown> = {
      time: e.time,
      txcount,
      window_final_block_hash: e.hashHex,
      window_final_block_height: e.height,
      window_block_count: n,
    };
    if (n > 0) {
      const start = chain.getEntryAtHeight(e.height - n)!;
      const interval = chain.medianTimePast(e) - chain.medianTimePast(start);
      const windowTx = txcount - (await chainTxCount(start));
      out.window_interval = interval;
      out.window_tx_count = windowTx;
      if (interval > 0) out.txrate = windowTx / interval;
    }
    return out;
  });

  reg('getchainstates', [], '', () => {
    const tip = chain.tip;
    const progress = deps.syncProgress();
    return {
      headers: Math.max(chain.bestHeader.height, progress.headers),
      chainstates: [
        {
          blocks: tip.height,
          bestblockhash: tip.hashHex,
          bits: u32Hex(tip.bits),
          target: targetHex(tip.bits),
          difficulty: difficultyFromBits(tip.bits),
          verificationprogress: progress.syncing ? Math.min(1, Math.max(0, progress.fraction)) : 1,
          coins_db_cache_bytes: 0,
          coins_tip_cache_bytes: deps.coinsCacheBytes(),
          validated: true,
        },
      ],
    };
  });

  reg('getdeploymentinfo', ['blockhash'], '', (r) => {
    let e = chain.tip;
    if (r.has(0)) {
      const found = chain.getEntry(hashParam(r, 0, 'blockhash'));
      if (found === undefined) throw blockNotFound();
      e = found;
    }
    // Core lists each deployment by whether it applies to the block after this one. SegWit and
    // Taproot do not exist on a pre-SegWit chain, so they are not listed.
    const buried = (height: number) => ({ type: 'buried', active: e.height + 1 >= height, height });
    return {
      hash: e.hashHex,
      height: e.height,
      deployments: {
        bip34: buried(params.bip34Height),
        bip66: buried(params.bip66Height),
        bip65: buried(params.bip65Height),
        csv: buried(params.csvHeight),
      },
    };
  });

  const poolEntry = (r: ParamReader) => {
    const e = mempool.get(hashFromHex(hashParam(r, 0, 'txid')));
    if (e === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
    return e;
  };
  const related = (name: string, pick: (e: ReturnType<typeof poolEntry>) => Map<string, unknown>) =>
    reg(name, ['txid', 'verbose'], '', (r) => {
      const found = pick(poolEntry(r));
      const verbose = r.optBool(1, false);
      const entries = [...found.values()] as ReturnType<typeof poolEntry>[];
      if (!verbose) return entries.map((x) => x.tx.txidHex());
      return Object.fromEntries(entries.map((x) => [x.tx.txidHex(), mempoolEntryJson(mempool, x)]));
    });
  related('getmempoolancestors', (e) => mempool.ancestors(e));
  related('getmempooldescendants', (e) => mempool.descendants(e));

  reg('gettxspendingprevout', ['outputs'], '', (r) => {
    const outputs = r.array(0);
    if (outputs.length === 0)
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, outputs are missing');
    return outputs.map((o) => {
      if (o === null || typeof o !== 'object' || Array.isArray(o))
        throw new RpcError(RpcCode.TYPE_ERROR, 'Expected type object for outputs entry');
      const { txid, vout } = o as Record<string, unknown>;
      if (typeof txid !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, 'Missing txid');
      if (typeof vout !== 'number' || !Number.isSafeInteger(vout))
        throw new RpcError(RpcCode.TYPE_ERROR, 'Missing vout');
      if (vout < 0)
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout cannot be negative');
      if (!/^[0-9a-fA-F]{64}$/.test(txid))
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          `txid must be hexadecimal string of length 64 (not '${txid}')`,
        );
      const spender = vout <= 0xffffffff ? mempool.spender(new OutPoint(hashFromHex(txid), vout)) : undefined;
      return spender
        ? { txid: txid.toLowerCase(), vout, spendingtxid: spender.tx.txidHex() }
        : { txid: txid.toLowerCase(), vout };
    });
  });

  reg('savemempool', [], '', async () => {
    try {
      return { filename: await deps.saveMempool() };
    } catch (e) {
      throw new RpcError(
        RpcCode.MISC_ERROR,
        `Unable to dump mempool to disk: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });

  reg('importmempool', ['filepath', 'options'], '', async (r) => {
    const path = r.string(0);
    const opts: ImportMempoolOptions = {
      useCurrentTime: true,
      applyFeeDeltaPriority: false,
      applyUnbroadcastSet: false,
    };
    for (const [key, value] of Object.entries(r.has(1) ? r.object(1) : {})) {
      if (!Object.hasOwn(IMPORT_OPTIONS, key))
        throw new RpcError(RpcCode.TYPE_ERROR, `Unexpected key ${key}`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'boolean')
        throw new RpcError(
          RpcCode.TYPE_ERROR,
          `JSON value of type ${typeof value} for field ${key} is not of expected type bool`,
        );
      opts[IMPORT_OPTIONS[key as keyof typeof IMPORT_OPTIONS]] = value;
    }
    if (deps.isInitialBlockDownload())
      throw new RpcError(
        RpcCode.CLIENT_IN_INITIAL_DOWNLOAD,
        'Can only import the mempool after the block download and sync is done.',
      );
    try {
      await deps.importMempool(path, opts);
    } catch (e) {
      throw new RpcError(
        RpcCode.MISC_ERROR,
        `Unable to import mempool file, see debug.log for details. (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    return {};
  });

  // Core's pruneblockchain: a height (or a time above 1e9, the first block at most 2 hours before
  // it); never the last 288 blocks; the result is the height of the last pruned block or -1.
  reg('pruneblockchain', ['height'], '', async (r) => {
    let height = r.int(0);
    if (chain.pruneMode === null)
      throw new RpcError(RpcCode.MISC_ERROR, 'Cannot prune blocks because node is not in prune mode.');
    if (height < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Negative block height.');
    if (height > 1_000_000_000) {
      let found: number | undefined;
      for (let h = 0; h <= chain.height && found === undefined; h++)
        if (chain.getEntryAtHeight(h)!.time >= height - TIMESTAMP_WINDOW) found = h;
      if (found === undefined)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'Could not find block with at least the specified timestamp.',
        );
      height = found;
    }
    if (height > chain.height)
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Blockchain is shorter than the attempted prune height.');
    return (await chain.pruneBlockchain(height)) ?? -1;
  });

  reg('verifychain', ['checklevel', 'nblocks'], '', async (r) => {
    const level = Math.min(4, Math.max(0, r.optInt(0, 3)));
    let n = r.optInt(1, 6);
    if (n <= 0 || n > chain.height) n = chain.height;
    // Levels 0-2 as Core: read each block, check it (merkle root, proof of work), read its undo data
    // and match it to the inputs. Levels 3 and 4 (disconnect and reconnect in memory) are checked
    // as level 2: the chain does that on every reorg, and a read-only RPC does not move the tip.
    for (let h = chain.height; h > chain.height - n && h > 0; h--) {
      const e = chain.getEntryAtHeight(h)!;
      const block = await chain.getBlock(e.hash);
      if (block === undefined) return false;
      if (level >= 1) {
        const { root, mutated } = block.merkle();
        if (mutated || Buffer.compare(root, e.header.merkleRoot) !== 0 || block.hashHex() !== e.hashHex)
          return false;
      }
      if (level >= 2) {
        const undo = await chain.getUndo(e.hash);
        if (undo === undefined || undo.length !== block.txs.length - 1) return false;
        if (undo.some((coins, i) => coins.length !== block.txs[i + 1].inputs.length)) return false;
      }
    }
    return true;
  });

  reg('submitheader', ['hexdata'], '', async (r) => {
    let header: BlockHeader;
    try {
      const bytes = hexToBytes(r.string(0));
      if (bytes.length !== 80) throw new Error('length');
      header = BlockHeader.decode(bytes);
    } catch {
      throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Block header decode failed');
    }
    if (chain.getEntry(header.prevHash) === undefined)
      throw new RpcError(
        RpcCode.VERIFY_ERROR,
        `Must submit previous header (${Buffer.from(header.prevHash).reverse().toString('hex')}) first`,
      );
    const v = await chain.processHeaders([header]);
    if (v.error) throw new RpcError(RpcCode.VERIFY_ERROR, v.error.reason);
    return null;
  });

  reg('getmemoryinfo', ['mode'], '', (r) => {
    const mode = r.optString(0) ?? 'stats';
    // Core reports its locked (mlock) pool for keys; Tally's keys live on the JS heap, so the
    // pool is empty. mallocinfo needs glibc's malloc_info, which Node does not expose.
    if (mode === 'stats')
      return { locked: { used: 0, free: 0, total: 0, locked: 0, chunks_used: 0, chunks_free: 0 } };
    if (mode === 'mallocinfo') throw new RpcError(RpcCode.INVALID_PARAMETER, 'mallocinfo mode not available');
    throw new RpcError(RpcCode.INVALID_PARAMETER, `unknown mode ${mode}`);
  });

  return registerWaits(server, chain);
}

/** waitfornewblock, waitforblock and waitforblockheight: each resolves on a new tip, its timeout or shutdown. */
function registerWaits(server: RpcServer, chain: ChainPort): EventHooks {
  const reg = methodRegistrar(server);
  const waiters = new Set<() => void>();
  const tipJson = () => ({ hash: chain.tip.hashHex, height: chain.height });
  const wait = (r: ParamReader, ctx: RpcContext, timeoutIndex: number, done: () => boolean) => {
    const timeout = r.optInt(timeoutIndex, 0);
    if (timeout < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, 'Negative timeout');
    if (done()) return tipJson();
    if (waiters.size >= MAX_BLOCK_WAITERS)
      throw new RpcError(RpcCode.MISC_ERROR, `Too many waiting calls (at most ${MAX_BLOCK_WAITERS})`);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        waiters.delete(check);
        if (timer) clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', finish);
        resolve(tipJson());
      };
      const check = () => {
        if (done()) finish();
      };
      waiters.add(check);
      if (timeout > 0) timer = setTimeout(finish, timeout);
      if (ctx.signal?.aborted) finish();
      else ctx.signal?.addEventListener('abort', finish);
    });
  };
  reg('waitfornewblock', ['timeout', 'current_tip'], '', (r, _raw, ctx) => {
    const start = r.has(1) ? hashParam(r, 1, 'current_tip') : chain.tip.hashHex;
    return wait(r, ctx, 0, () => chain.tip.hashHex !== start);
  });
  reg('waitforblock', ['blockhash', 'timeout'], '', (r, _raw, ctx) => {
    const want = hashParam(r, 0, 'blockhash');
    return wait(r, ctx, 1, () => chain.tip.hashHex === want);
  });
  reg('waitforblockheight', ['height', 'timeout'], '', (r, _raw, ctx) => {
    const height = r.int(0);
    return wait(r, ctx, 1, () => chain.height >= height);
  });
  return {
    tipChanged: () => {
      for (const check of [...waiters]) check();
    },
  };
}

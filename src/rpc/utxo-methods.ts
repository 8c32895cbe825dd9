// The UTXO set's RPC interface as Bitcoin Core v29's (rpc/blockchain.cpp): gettxoutsetinfo
// (hash_serialized_3, muhash or none over a consistent read of the set at the tip, or any block's
// figures from the coinstatsindex), scantxoutset (one scan at a time, for pre-SegWit
// descriptors, with status and abort), dumptxoutset (Core's snapshot file, written to a temp
// file and linked into place) and loadtxoutset (metadata read and checked; refused as Core
// refuses a base block outside its assumeutxo table, which Tally's is: it has no entries yet). Owns only the reply shapes, parameters and error codes; the
// set is read through the chain port's snapshot and the index through CoinStatsPort. Fails with
// RpcError: -8 bad parameter, -5 unknown block, -32603 when the index cannot answer.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type FileHandle, link, open, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { coinHashBytes, computeUtxoStats, type CoinHashType } from '../chain/coin-stats.js';
import type { StoredCoin } from '../chain/ports.js';
import {
  readSnapshotMetadata,
  SNAPSHOT_METADATA_SIZE,
  SnapshotError,
  writeSnapshotGroup,
  writeSnapshotMetadata,
} from '../chain/utxo-snapshot.js';
import type { AddressPrefixes } from '../primitives/address.js';
import { BufferReader, BufferWriter, bytesToHex, equalBytes, reverseHex } from '../primitives/bytes.js';
import { JsonAmount } from './amount.js';
import { chainTxCounter, hashOrHeightParam } from './chain-json.js';
import { directorySize } from './chain-methods.js';
import { DescriptorError, inferDescriptor } from './descriptor.js';
import { expandDescriptor, parseDescriptorText } from './descriptor-parse.js';
import { parseDescriptorRange } from './descriptor-methods.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar, ParamReader } from './params.js';
import { RollbackError, rollbackChanges, rolledBackCoins } from './snapshot-rollback.js';
import type { CoinStatsTotals } from '../chain/coin-stats.js';
import type { BlockInfo, ChainPort, CoinStatsPort } from './ports.js';
import type { RpcServer } from './server.js';

export interface UtxoRpcDeps {
  chain: ChainPort;
  prefixes: AddressPrefixes;
  /** The chainstate folder (disk_size). */
  chainstateDir: string;
  /** The network's folder: relative snapshot paths are under it, as Core's. */
  datadir: string;
  /** The network's 4-byte message start (snapshot metadata). */
  networkMagic: Uint8Array;
  /** The coinstatsindex, when coinstatsindex=1. */
  coinStats?: CoinStatsPort;
}

const amount = (sats: bigint) => new JsonAmount(sats);

/** The scan objects one scantxoutset may name (Core bounds them only by the request's size). */
export const MAX_SCAN_OBJECTS = 10_000;

/** Core's FindScriptPubKey progress: the txid's first two bytes as a share of the key space. */
const scanProgress = (txid: Uint8Array) => Math.floor(((txid[0] * 256 + txid[1]) * 100) / 65536 + 0.5);

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** Core's default range for a ranged scan object: positions 0 to 1,000. */
const DEFAULT_SCAN_RANGE: [number, number] = [0, 1000];

/**
 * One scan object (Core's EvalDescriptorStringOrObject): its scripts at every position of its
 * range, each with the descriptor Core infers for it from what the descriptor named. Yields to the
 * event loop between positions (a range may hold a million keys) and stops when `aborted`.
 */
async function scanObjectScripts(
  o: unknown,
  needles: Map<string, string>,
  aborted: () => boolean,
  prefixes: AddressPrefixes,
): Promise<void> {
  let text: string;
  let range = DEFAULT_SCAN_RANGE;
  if (typeof o === 'string') text = o;
  else if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    const { desc, range: r } = o as { desc?: unknown; range?: unknown };
    if (desc === undefined || desc === null)
      throw new RpcError(RpcCode.INVALID_PARAMETER, 'Descriptor needs to be provided in scan object');
    if (typeof desc !== 'string')
      throw new RpcError(
        RpcCode.TYPE_ERROR,
        `JSON value of type ${typeof desc} is not of expected type string`,
      );
    text = desc;
    if (r !== undefined && r !== null) range = parseDescriptorRange(r);
  } else
    throw new RpcError(RpcCode.INVALID_PARAMETER, 'Scan object needs to be either a string or an object');
  let parsed;
  try {
    parsed = parseDescriptorText(text, prefixes);
  } catch (e) {
    if (!(e instanceof DescriptorError)) throw e;
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, e.message);
  }
  const [low, high] = parsed.isRange ? range : [0, 0];
  for (let pos = low; pos <= high; pos++) {
    if (pos > low && (pos - low) % 100 === 0) {
      await new Promise((done) => setImmediate(done));
      if (aborted()) return;
    }
    let x;
    try {
      x = expandDescriptor(parsed, pos);
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
      throw new RpcError(
        RpcCode.INVALID_ADDRESS_OR_KEY,
        `Cannot derive script without private keys: '${text}'`,
      );
    }
    for (const s of x.scripts)
      if (!needles.has(latin1(s))) needles.set(latin1(s), inferDescriptor(s, prefixes, x.info));
  }
}

/** Core's ParseHashType. */
function hashType(r: ParamReader): CoinHashType {
  const t = r.optString(0) ?? 'hash_serialized_3';
  if (t !== 'hash_serialized_3' && t !== 'muhash' && t !== 'none')
    throw new RpcError(RpcCode.INVALID_PARAMETER, `'${t}' is not a valid hash_type`);
  return t;
}

export function registerUtxoMethods(server: RpcServer, deps: UtxoRpcDeps): void {
  const { chain, coinStats, prefixes } = deps;
  const reg = methodRegistrar(server);
  // The one scan allowed at a time (Core's CoinsViewScanReserver).
  let scan: { progress: number; abort: boolean } | null = null;

  const fromIndex = async (index: CoinStatsPort, e: BlockInfo, type: CoinHashType) => {
    const s = await index.get(e.hash);
    const prev = e.prev === null ? undefined : await index.get(e.prev.hash);
    if (s === undefined || (e.prev !== null && prev === undefined))
      throw new RpcError(RpcCode.INTERNAL_ERROR, 'Unable to read UTXO set');
    const unspendables = (t: CoinStatsTotals | undefined) =>
      t === undefined
        ? 0n
        : t.unspendableGenesis + t.unspendableBip30 + t.unspendableScripts + t.unspendableUnclaimed;
    const delta = (f: (t: CoinStatsTotals) => bigint) => amount(f(s) - (prev === undefined ? 0n : f(prev)));
    return {
      height: e.height,
      bestblock: e.hashHex,
      txouts: Number(s.txouts),
      bogosize: Number(s.bogosize),
      muhash: type === 'muhash' ? reverseHex(s.muhash.digest()) : undefined,
      total_amount: amount(s.totalAmount),
      total_unspendable_amount: amount(unspendables(s)),
      block_info: {
        prevout_spent: delta((t) => t.prevoutSpent),
        coinbase: delta((t) => t.coinbase),
        new_outputs_ex_coinbase: delta((t) => t.newOutputsExCoinbase),
        unspendable: amount(unspendables(s) - unspendables(prev)),
        unspendables: {
          genesis_block: delta((t) => t.unspendableGenesis),
          bip30: delta((t) => t.unspendableBip30),
          scripts: delta((t) => t.unspendableScripts),
          unclaimed_rewards: delta((t) => t.unspendableUnclaimed),
        },
      },
    };
  };

  reg(
    'gettxoutsetinfo',
    ['hash_type', 'hash_or_height', 'use_index'],
    'Statistics about the unspent transaction output set.',
    async (r, raw) => {
      const type = hashType(r);
      const indexRequested = r.optBool(2, true);
      let target: BlockInfo | undefined;
      if (r.has(1)) {
        if (!coinStats)
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            'Querying specific block heights requires coinstatsindex',
          );
        if (type === 'hash_serialized_3')
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            'hash_serialized_3 hash type cannot be queried for a specific block',
          );
        if (!indexRequested)
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            'Cannot set use_index to false when querying for a specific block',
          );
        if (typeof raw[1] !== 'number' && typeof raw[1] !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'hash_or_height must be a number or a string');
        target = hashOrHeightParam(chain, r, raw, 1, 'hash_or_height');
      }
      if (indexRequested && coinStats && !(await coinStats.syncedToTip())) {
        const best = coinStats.info().best_block_height;
        if ((target?.height ?? chain.height) > best)
          throw new RpcError(
            RpcCode.INTERNAL_ERROR,
            `Unable to get data because coinstatsindex is still syncing. Current height: ${best}`,
          );
      }
      // Core answers muhash and none from the index when it may; hash_serialized_3 always scans.
      if (coinStats && indexRequested && type !== 'hash_serialized_3')
        return fromIndex(coinStats, target ?? chain.tip, type);
      const snap = await chain.coinsSnapshot();
      const s = await computeUtxoStats(snap.coins, type);
      const hash = s.hash === undefined ? undefined : reverseHex(s.hash);
      return {
        height: snap.height,
        bestblock: snap.bestBlock,
        txouts: s.txouts,
        bogosize: s.bogosize,
        hash_serialized_3: type === 'hash_serialized_3' ? hash : undefined,
        muhash: type === 'muhash' ? hash : undefined,
        total_amount: amount(s.totalAmount),
        transactions: s.transactions,
        disk_size: await directorySize(deps.chainstateDir),
      };
    },
  );

  reg(
    'scantxoutset',
    ['action', 'scanobjects'],
    'Scans the unspent transaction output set for outputs matching output descriptors.',
    async (r) => {
      const action = r.string(0);
      if (action === 'status') return scan === null ? null : { progress: scan.progress };
      if (action === 'abort') {
        if (scan === null) return false;
        scan.abort = true;
        return true;
      }
      if (action !== 'start') throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid action '${action}'`);
      if (scan !== null)
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          'Scan already in progress, use action "abort" or "status"',
        );
      if (!r.has(1))
        throw new RpcError(RpcCode.MISC_ERROR, 'scanobjects argument is required for the start action');
      const objects = r.array(1);
      if (objects.length > MAX_SCAN_OBJECTS) throw r.invalid(1, `at most ${MAX_SCAN_OBJECTS} scan objects`);
      const mine = { progress: 0, abort: false };
      scan = mine;
      try {
        // Script bytes (latin1) -> the descriptor printed for an output paying it.
        const needles = new Map<string, string>();
        for (const o of objects) {
          await scanObjectScripts(o, needles, () => mine.abort, prefixes);
          if (mine.abort) break;
        }
        const snap = await chain.coinsSnapshot();
        // The block of a coin's height on the snapshot's chain (the tip may have moved since).
        const blockAt = (h: number): string | undefined => {
          const e = chain.getEntryAtHeight(h);
          if (chain.getEntryAtHeight(snap.height)?.hashHex === snap.bestBlock) return e?.hashHex;
          let a = chain.getEntry(snap.bestBlock) ?? null;
          while (a !== null && a.height > h) a = a.prev;
          return a?.hashHex;
        };
        let txouts = 0;
        let total = 0n;
        let completed = true;
        const unspents: Record<string, unknown>[] = [];
        for await (const [op, coin] of snap.coins) {
          if (mine.abort) {
            completed = false;
            break;
          }
          txouts++;
          if (txouts % 256 === 0) mine.progress = scanProgress(op.hash);
          const desc = needles.get(latin1(coin.script));
          if (desc === undefined) continue;
          total += coin.value;
          unspents.push({
            txid: op.txidHex(),
            vout: op.index,
            scriptPubKey: bytesToHex(coin.script),
            desc,
            amount: amount(coin.value),
            coinbase: coin.coinbase,
            height: coin.height,
            blockhash: blockAt(coin.height),
            confirmations: snap.height - coin.height + 1,
          });
        }
        return {
          success: completed,
          txouts,
          height: snap.height,
          bestblock: snap.bestBlock,
          unspents,
          total_amount: amount(total),
        };
      } finally {
        scan = null;
      }
    },
  );

  const chainTxCount = chainTxCounter(chain);

  reg(
    'dumptxoutset',
    ['path', 'type', 'options'],
    'Write the serialized UTXO set to a file (Core v29 snapshot format).',
    async (r) => {
      const path = resolve(deps.datadir, r.string(0));
      const type = r.optString(1) ?? '';
      const options = r.has(2) ? r.object(2) : {};
      // The block to dump at: the tip ("latest"), or an earlier one of the active chain (rollback).
      let target: BlockInfo | null = null;
      if (Object.hasOwn(options, 'rollback')) {
        if (type !== '' && type !== 'rollback')
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            `Invalid snapshot type "${type}" specified with rollback option`,
          );
        target = hashOrHeightParam(
          chain,
          new ParamReader([options.rollback], ['rollback']),
          [options.rollback],
          0,
          'rollback',
        );
      } else if (type === 'rollback')
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          "This network's assumeutxo table has no snapshot heights to roll back to: name one with the rollback option (a height or a block hash)",
        );
      else if (type !== 'latest')
        throw new RpcError(
          RpcCode.INVALID_PARAMETER,
          `Invalid snapshot type "${type}" specified. Please specify "rollback" or "latest"`,
        );
      if (target !== null && !chain.isOnActiveChain(target))
        throw new RpcError(RpcCode.MISC_ERROR, 'Could not roll back to requested height.');
      if (target !== null && target.height < chain.height) {
        // Core's check before it rolls back: the blocks above the target must still be stored.
        const pruned = chain.pruneHeight();
        if (pruned !== null && pruned >= target.height)
          throw new RpcError(
            RpcCode.MISC_ERROR,
            'Could not roll back to requested height since necessary block data is already pruned.',
          );
      }
      const exists = () =>
        new RpcError(
          RpcCode.INVALID_PARAMETER,
          `${path} already exists. If you are sure this is what you want, move it out of the way first`,
        );
      if (existsSync(path)) throw exists();
      const temp = `${path}.incomplete`;
      let file: FileHandle;
      try {
        // 'wx': a second dump to the same path at once is refused, not interleaved.
        file = await open(temp, 'wx', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw exists();
        throw new RpcError(
          RpcCode.MISC_ERROR,
          `Couldn't open file ${temp} for writing: ${(e as Error).message}`,
        );
      }
      try {
        const snap = await chain.coinsSnapshot();
        const tip = chain.getEntry(snap.bestBlock);
        if (tip === undefined) throw new RpcError(RpcCode.INTERNAL_ERROR, 'Unable to read UTXO set');
        let base = tip;
        let coins = snap.coins;
        if (target !== null && target.hash !== tip.hash) {
          // The tip may have moved since the checks: the target must still lie below the snapshot's.
          let at: BlockInfo | null = tip;
          while (at !== null && at.height > target.height) at = at.prev;
          if (at?.hashHex !== target.hashHex)
            throw new RpcError(RpcCode.MISC_ERROR, 'Could not roll back to requested height.');
          let changes;
          try {
            changes = await rollbackChanges(chain, tip, target);
          } catch (e) {
            if (e instanceof RollbackError) throw new RpcError(RpcCode.MISC_ERROR, e.message);
            throw e;
          }
          base = target;
          coins = rolledBackCoins(snap.coins, changes);
        }
        const meta = (count: bigint) =>
          writeSnapshotMetadata({ networkMagic: deps.networkMagic, baseHash: base.hash, coinsCount: count });
        const chunks: Uint8Array[] = [meta(0n)];
        let buffered = 0;
        const flush = async () => {
          await file.writev(chunks);
          chunks.length = 0;
          buffered = 0;
        };
        // The set is walked once: the file, the count and hash_serialized_3 together.
        let group: [number, StoredCoin][] = [];
        let txid: Uint8Array | null = null;
        let count = 0n;
        const endGroup = async () => {
          if (txid === null) return;
          const g = writeSnapshotGroup(txid, group);
          chunks.push(g);
          buffered += g.length;
          if (buffered >= 1 << 20) await flush();
          group = [];
        };
        const sha = createHash('sha256');
        const w = new BufferWriter(256);
        for await (const [op, coin] of coins) {
          if (txid === null || !equalBytes(txid, op.hash)) {
            await endGroup();
            txid = op.hash;
          }
          group.push([op.index, coin]);
          sha.update(coinHashBytes(op, coin, w));
          count++;
        }
        await endGroup();
        await flush();
        await file.write(meta(count), 0, SNAPSHOT_METADATA_SIZE, 0);
        await file.sync();
        await file.close();
        try {
          // link refuses an existing path, so a file made meanwhile is never replaced.
          await link(temp, path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw exists();
          throw e;
        }
        await unlink(temp);
        return {
          coins_written: Number(count),
          base_hash: base.hashHex,
          base_height: base.height,
          path,
          txoutset_hash: reverseHex(createHash('sha256').update(sha.digest()).digest()),
          nchaintx: await chainTxCount(base),
        };
      } catch (e) {
        await file.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
        throw e;
      }
    },
  );

  reg(
    'loadtxoutset',
    ['path'],
    'Load a UTXO snapshot (Core v29 format): only snapshots of the assumeutxo table are loaded, and Tally has none yet.',
    async (r) => {
      const path = resolve(deps.datadir, r.string(0));
      let head: Uint8Array;
      try {
        const f = await open(path, 'r');
        try {
          const buf = new Uint8Array(SNAPSHOT_METADATA_SIZE);
          const { bytesRead } = await f.read(buf, 0, buf.length, 0);
          head = buf.subarray(0, bytesRead);
        } finally {
          await f.close();
        }
      } catch {
        throw new RpcError(RpcCode.INVALID_PARAMETER, `Couldn't open file ${path} for reading.`);
      }
      let meta;
      try {
        meta = readSnapshotMetadata(new BufferReader(head), deps.networkMagic);
      } catch (e) {
        if (!(e instanceof SnapshotError)) throw e;
        throw new RpcError(RpcCode.DESERIALIZATION_ERROR, `Unable to parse metadata: ${e.message}`);
      }
      // Core's ActivateSnapshot first looks the base block up in its assumeutxo table; Tally's is empty.
      throw new RpcError(
        RpcCode.INTERNAL_ERROR,
        `Unable to load UTXO snapshot: assumeutxo block hash in snapshot metadata not recognized (hash: ${reverseHex(meta.baseHash)}). The following snapshot heights are available: . (${path})`,
      );
    },
  );
}

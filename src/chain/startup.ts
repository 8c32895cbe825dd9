// Start-up and recovery: load the header index, create the genesis entry on a new database,
// finish a coins flush that was interrupted between its batches (Bitcoin Core's ReplayBlocks),
// rebuild the index from the block files (--reindex) or the UTXO set from the stored blocks
// (--reindex-chainstate), and verify the last blocks (Core's -checkblocks).
import { Block, BlockHeader, HEADER_SIZE } from '../primitives/block.js';
import { reverseHex } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import type { ChainParams } from '../consensus/params.js';
import { blockWork } from '../consensus/pow.js';
import { checkBlock } from '../consensus/block-check.js';
import { BlockEntry, findFork } from './block-index.js';
import { type CoinsCache, CoinsLayer } from './coins.js';
import {
  BlockStatus,
  ChainCorruptionError,
  type BlockUndo,
  type ChainStore,
  type StoredAt,
} from './ports.js';
import type { BlockTree } from './tree.js';
import type { Activation } from './activation.js';
import { isUnspendable } from '../script/script.js';
import type { Logger } from '../primitives/logger.js';

export interface StartupDeps {
  tree: BlockTree;
  store: ChainStore;
  coins: CoinsCache;
  params: ChainParams;
  activation: Activation;
  maxBatchBytes: number;
  log?: Logger;
}

/** Loads the index and sets the active chain to the block the coins on disk belong to.
 * `reindex`: rebuild the UTXO set from the stored blocks (the store rebuilds the index itself
 * when it says it is reindexing). */
export async function loadChain(d: StartupDeps, reindex: boolean): Promise<void> {
  const { tree, store } = d;
  if (store.reindexing) {
    await rebuildIndex(d);
    return;
  }
  const records = await store.loadIndex();
  if (records.length === 0) {
    await initGenesis(d);
    return;
  }
  records.sort((a, b) => a.height - b.height);
  for (const r of records) {
    const hash = r.header.hash();
    const prev = r.height === 0 ? null : tree.getEntry(reverseHex(r.header.prevHash));
    if (r.height > 0 && !prev)
      throw new ChainCorruptionError(`database corrupted: index entry ${reverseHex(hash)} has no parent`);
    // A negative sequence is preciousblock's, which Core does not keep across restarts.
    const sequence = r.sequence < 0 ? Number.MAX_SAFE_INTEGER : r.sequence;
    tree.add(new BlockEntry(hash, r.header, r.height, r.chainWork, prev ?? null, r.status, sequence));
    tree.sequence = Math.max(tree.sequence, r.sequence + 1);
  }
  const genesis = tree.getEntry(d.params.genesisHash);
  if (!genesis) throw new ChainCorruptionError('database holds another network (genesis block not found)');
  if (reindex) await beginReindex(d, genesis);
  const markers = await store.getMarkers();
  if (markers.headBlocks) {
    await replayBlocks(d, markers.headBlocks[0], markers.headBlocks[1]);
  } else if (!markers.best) {
    // Neither marker nor any coin: a chain state that never got past genesis. A kill inside the
    // first start's genesis write leaves it (the index and the chain state are two databases,
    // written one after the other), as does one inside --reindex-chainstate's wipe. Core starts
    // an empty coins view from genesis too; coins without a marker are damage.
    if (await holdsAnyCoin(store))
      throw new ChainCorruptionError('database corrupted: no best-block marker (restart with reindex)');
    await beginReindex(d, genesis);
    d.activation.diskBest = genesis.hash;
  } else {
    d.activation.diskBest = markers.best;
  }
  const best = d.activation.diskBest!;
  const tip = tree.getEntry(best);
  if (!tip)
    throw new ChainCorruptionError(`database corrupted: best block ${reverseHex(best)} not in the index`);
  tree.setActive(tip);
  tree.linkLoaded();
  d.log?.info({ height: tip.height, hash: tip.hashHex, entries: tree.index.size }, 'chain loaded');
}

/** Whether the chain state holds at least one coin. */
async function holdsAnyCoin(store: StartupDeps['store']): Promise<boolean> {
  const it = store.iterateCoins()[Symbol.asyncIterator]();
  const first = await it.next();
  await it.return?.();
  return first.done !== true;
}

async function initGenesis(d: StartupDeps, storedAt?: StoredAt): Promise<void> {
  const g = d.params.genesis;
  const status = BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA | BlockStatus.VALID_SCRIPTS;
  const e = new BlockEntry(g.hash(), g.header, 0, blockWork(g.header.bits), null, status, 0);
  e.haveChainData = true;
  d.tree.add(e);
  const b = d.store.batch();
  if (storedAt) b.linkBlock(e.hash, storedAt);
  else b.putBlock(e.hash, g.encode());
  // The genesis coinbase is not spendable (as in Bitcoin): it never enters the UTXO set.
  await b.putIndex(e.hash, e.record()).setBest(e.hash).write();
  d.activation.diskBest = e.hash;
  d.tree.setActive(e);
  d.tree.candidates.add(e);
  d.tree.bestHeader = e;
}

/**
 * --reindex (Core's LoadExternalBlockFile over its own files): the index is rebuilt from every
 * whole block record of the block files. The files hold bodies in arrival order, which is not
 * always parent first (bodies are fetched in parallel), so a first pass keeps only each record's
 * header and position and a second accepts them parent first, each read again and fully checked
 * as on arrival; the chain state then follows from genesis as the node activates. A record whose
 * parent is in no file is skipped. Holds about 150 bytes per stored block.
 */
async function rebuildIndex(d: StartupDeps): Promise<void> {
  const { store, activation } = d;
  const genesisHex = reverseHex(d.params.genesisHash);
  const byParent = new Map<string, { hashHex: string; at: StoredAt }[]>();
  const seen = new Set<string>();
  let genesisAt: StoredAt | undefined;
  let records = 0;
  for await (const [at, raw] of store.scanBlocks()) {
    if (raw.length < HEADER_SIZE) continue;
    let header: BlockHeader;
    try {
      header = BlockHeader.decode(raw.subarray(0, HEADER_SIZE));
    } catch {
      continue;
    }
    const hashHex = header.hashHex();
    if (seen.has(hashHex)) continue;
    seen.add(hashHex);
    records++;
    if (hashHex === genesisHex) {
      genesisAt = at;
      continue;
    }
    const prev = reverseHex(header.prevHash);
    const list = byParent.get(prev) ?? [];
    list.push({ hashHex, at });
    byParent.set(prev, list);
  }
  d.log?.info({ records }, 'reindex: rebuilding the block index from the block files');
  await initGenesis(d, genesisAt);
  let accepted = 0;
  const queue = [genesisHex];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    const kids = byParent.get(parent) ?? [];
    byParent.delete(parent);
    for (const k of kids) {
      let block: Block;
      try {
        block = Block.decode(await store.readBlockAt(k.at));
      } catch {
        continue;
      }
      const r = await activation.acceptBlock(block, k.at);
      activation.forgetArrivals();
      if (!r.accepted) continue;
      accepted++;
      queue.push(k.hashHex);
    }
  }
  await store.finishReindex();
  d.log?.info({ accepted, skipped: records - 1 - accepted }, 'reindex: block index rebuilt');
}

/** Bitcoin Core's ReplayBlocks: finish a flush that was interrupted between its batches. */
async function replayBlocks(d: StartupDeps, newHash: Uint8Array, oldHash: Uint8Array | null): Promise<void> {
  const { tree, activation } = d;
  const target = tree.getEntry(newHash);
  if (!target)
    throw new ChainCorruptionError(`database corrupted: head block ${reverseHex(newHash)} not in the index`);
  const old = oldHash ? tree.getEntry(oldHash) : undefined;
  if (oldHash && !old)
    throw new ChainCorruptionError(`database corrupted: head block ${reverseHex(oldHash)} not in the index`);
  const fork = old ? findFork(old, target) : null;
  d.log?.warn({ from: old?.hashHex, to: target.hashHex }, 'replaying an interrupted coins flush');
  for (let e = old ?? null; e && e !== fork; e = e.prev) {
    const [block, undo] = await Promise.all([activation.readBlock(e), activation.readUndo(e)]);
    rollback(d.coins, block, undo);
  }
  const path: BlockEntry[] = [];
  for (let e: BlockEntry | null = target; e && e !== fork; e = e.prev) path.push(e);
  for (const e of path.reverse()) rollforward(d.coins, await activation.readBlock(e), e.height);
  await d.coins.flush(target.hash, oldHash, { maxBatchBytes: d.maxBatchBytes });
  activation.diskBest = target.hash;
}

/** Undo a block's coin changes without checks (replay: the changes may be half-applied). */
function rollback(coins: CoinsCache, block: Block, undo: BlockUndo): void {
  if (
    undo.length !== block.txs.length - 1 ||
    undo.some((u, i) => u.length !== block.txs[i + 1].inputs.length)
  )
    throw new ChainCorruptionError(
      `database corrupted: undo data of block ${block.hashHex()} does not match the block`,
    );
  for (let t = block.txs.length - 1; t >= 0; t--) {
    const tx = block.txs[t];
    const txid = tx.txid();
    for (let i = 0; i < tx.outputs.length; i++) coins.erase(new OutPoint(txid, i));
    if (t > 0) {
      const spent = undo[t - 1];
      for (let i = tx.inputs.length - 1; i >= 0; i--) coins.add(tx.inputs[i].prevout, spent[i], true);
    }
  }
}

function rollforward(coins: CoinsCache, block: Block, height: number): void {
  for (let t = 0; t < block.txs.length; t++) {
    const tx = block.txs[t];
    if (t > 0) for (const i of tx.inputs) coins.erase(i.prevout);
    const txid = tx.txid();
    tx.outputs.forEach((o, i) => {
      if (!isUnspendable(o.scriptPubKey))
        coins.add(
          new OutPoint(txid, i),
          { value: o.value, script: o.scriptPubKey, height, coinbase: t === 0 },
          true,
        );
    });
  }
}

async function beginReindex(d: StartupDeps, genesis: BlockEntry): Promise<void> {
  d.log?.info({}, 'reindex: rebuilding the UTXO set from stored blocks');
  await d.store.wipeCoins();
  const b = d.store.batch();
  for (const e of d.tree.index.values()) {
    if (e !== genesis && e.status & BlockStatus.VALID_SCRIPTS) {
      e.status &= ~BlockStatus.VALID_SCRIPTS;
      b.putIndex(e.hash, e.record());
    }
  }
  await b.setBest(genesis.hash).write();
}

/** Start-up check of the last blocks (Bitcoin Core's -checkblocks at level 3). */
export async function verifyRecent(d: StartupDeps, n: number): Promise<void> {
  const { activation } = d;
  const layer = new CoinsLayer(d.coins);
  for (let e: BlockEntry | null = d.tree.tip, i = 0; e && e.prev && i < n; e = e.prev, i++) {
    const block = await activation.readBlock(e);
    try {
      checkBlock(block, d.params);
    } catch (err) {
      throw new ChainCorruptionError(
        `database corrupted: stored block ${e.hashHex} fails checks: ${String(err)}`,
      );
    }
    const undo = await activation.readUndo(e);
    await activation.fetchOutputs(block);
    activation.disconnectInto(layer, block, undo, e);
  }
}

// coinstatsindex (Core's -coinstatsindex, index/coinstatsindex.cpp): for every block of the
// active chain, the UTXO set's running MuHash3072 (coins created inserted, coins spent removed,
// each as Core's TxOutSer) and running totals: outputs, bogosize, amount, subsidy, prevouts spent,
// new outputs, coinbase outputs and the unspendable amounts by cause (genesis subsidy, BIP30's
// overwritten coinbases, unspendable scripts, rewards a miner did not claim), so gettxoutsetinfo
// answers muhash/none at any height. Entries are keyed by block hash and built on the parent's
// entry, so a block of a branch left behind keeps a correct entry and a reorg only steps back
// (Core copies its height-keyed entries to hash keys; one keying does both here). One entry is
// 768 bytes of MuHash state and 96 of totals.
import type { Block } from '../primitives/block.js';
import { BufferReader, BufferWriter, reverseHex } from '../primitives/bytes.js';
import { OutPoint } from '../primitives/tx.js';
import { isUnspendable } from '../script/script.js';
import { blockSubsidy, type SubsidyParams } from '../consensus/subsidy.js';
import { bogoSize, coinHashBytes, type CoinStatsTotals } from '../chain/coin-stats.js';
import type { BlockUndo } from '../chain/ports.js';
import { MuHash3072, MUHASH_BYTES } from '../crypto/muhash.js';
import { BaseIndex, type Put } from './base.js';
import type { IndexBlockRef } from './ports.js';

const STATS = 0x73; // 's' + block hash -> CoinStatsEntry

// Core's coinstatsindex skips the coinbases of the two mainnet blocks whose coinbase txids were
// later repeated (BIP30): their outputs were overwritten and count as unspendable.
const BIP30_OVERWRITTEN = new Map([
  [91722, '00000000000271a2dc26e7667f8419f2e15416dc6955e5a6c6cdf3f2574dd08e'],
  [91812, '00000000000af0aed4792b1acee3d966af36cf5def14935db8de83d6f9306f2f'],
]);

export type CoinStatsEntry = CoinStatsTotals;

const AMOUNTS = [
  'totalAmount',
  'totalSubsidy',
  'totalUnspendable',
  'prevoutSpent',
  'newOutputsExCoinbase',
  'coinbase',
  'unspendableGenesis',
  'unspendableBip30',
  'unspendableScripts',
  'unspendableUnclaimed',
] as const;

export function emptyCoinStats(): CoinStatsEntry {
  const e = { muhash: new MuHash3072(), txouts: 0n, bogosize: 0n } as CoinStatsEntry;
  for (const k of AMOUNTS) e[k] = 0n;
  return e;
}

export function encodeCoinStats(e: CoinStatsEntry): Uint8Array {
  const w = new BufferWriter(MUHASH_BYTES * 2 + 96);
  w.bytes(e.muhash.serialize()).u64(e.txouts).u64(e.bogosize);
  for (const k of AMOUNTS) w.i64(e[k]);
  return w.finish();
}

/** Throws DecodeError on a value of the wrong length. */
export function decodeCoinStats(b: Uint8Array): CoinStatsEntry {
  const r = new BufferReader(b);
  const muhash = MuHash3072.deserialize(r.bytes(MUHASH_BYTES * 2, 'muhash'));
  const e = { muhash, txouts: r.u64('txouts'), bogosize: r.u64('bogosize') } as CoinStatsEntry;
  for (const k of AMOUNTS) e[k] = r.i64(k);
  r.end('coin stats');
  return e;
}

/** The entry after `block` at `height`, from its parent's (Core's CustomAppend). */
export function applyBlockStats(
  prev: CoinStatsEntry,
  block: Block,
  height: number,
  undo: BlockUndo | undefined,
  params: SubsidyParams,
): CoinStatsEntry {
  const e: CoinStatsEntry = { ...prev, muhash: prev.muhash.clone() };
  const subsidy = blockSubsidy(height, params);
  e.totalSubsidy += subsidy;
  if (height === 0) {
    // The genesis coinbase never enters the UTXO set.
    e.totalUnspendable += subsidy;
    e.unspendableGenesis += subsidy;
  } else {
    if (block.txs.length > 1 && undo === undefined)
      throw new Error(`undo data of block ${height} is missing`);
    const bip30 = BIP30_OVERWRITTEN.get(height) === block.hashHex();
    const w = new BufferWriter(256);
    block.txs.forEach((tx, i) => {
      if (bip30 && i === 0) {
        e.totalUnspendable += subsidy;
        e.unspendableBip30 += subsidy;
        return;
      }
      const txid = tx.txid();
      tx.outputs.forEach((out, n) => {
        if (isUnspendable(out.scriptPubKey)) {
          e.totalUnspendable += out.value;
          e.unspendableScripts += out.value;
          return;
        }
        const coin = { value: out.value, script: out.scriptPubKey, height, coinbase: i === 0 };
        e.muhash.insert(coinHashBytes(new OutPoint(txid, n), coin, w));
        if (i === 0) e.coinbase += out.value;
        else e.newOutputsExCoinbase += out.value;
        e.txouts++;
        e.totalAmount += out.value;
        e.bogosize += BigInt(bogoSize(out.scriptPubKey));
      });
      if (i === 0) return;
      const spent = undo![i - 1];
      if (spent === undefined || spent.length !== tx.inputs.length)
        throw new Error(`undo data of block ${height} does not match transaction ${i}`);
      tx.inputs.forEach((input, j) => {
        const coin = spent[j];
        e.muhash.remove(coinHashBytes(input.prevout, coin, w));
        e.prevoutSpent += coin.value;
        e.txouts--;
        e.totalAmount -= coin.value;
        e.bogosize -= BigInt(bogoSize(coin.script));
      });
    });
  }
  // What the block could have paid and did not (fees or subsidy left unclaimed) is unspendable.
  const unclaimed =
    e.prevoutSpent + e.totalSubsidy - (e.newOutputsExCoinbase + e.coinbase + e.totalUnspendable);
  e.totalUnspendable += unclaimed;
  e.unspendableUnclaimed += unclaimed;
  return e;
}

export abstract class CoinStatsIndex extends BaseIndex {
  protected readonly needsUndo = true;
  protected abstract readonly params: SubsidyParams;

  readonly name = 'coinstatsindex';

  protected async blockPuts(block: Block, ref: IndexBlockRef, undo: BlockUndo | undefined): Promise<Put[]> {
    let prev = emptyCoinStats();
    if (ref.height > 0) {
      const p = await this.get(block.header.prevHash);
      if (!p) throw new Error(`coin statistics of the parent of block ${ref.height} are missing`);
      prev = p;
    }
    const e = applyBlockStats(prev, block, ref.height, undo, this.params);
    return [[Uint8Array.from([STATS, ...ref.hash]), encodeCoinStats(e)]];
  }

  /** The totals after the block `hash` (internal order), if it was ever indexed. */
  async get(hash: Uint8Array): Promise<CoinStatsEntry | undefined> {
    const v = await this.db.get(Uint8Array.from([STATS, ...hash]));
    if (v === undefined) return undefined;
    try {
      return decodeCoinStats(v);
    } catch (e) {
      throw new Error(
        `coinstatsindex entry of block ${reverseHex(hash)} is damaged: ${(e as Error).message}`,
      );
    }
  }

  /** Whether the index has reached the tip; waits for a block in progress, not for a first sync. */
  async syncedToTip(): Promise<boolean> {
    const tip = this.chain.tip();
    if ((this.best?.height ?? -1) >= tip.height - 1) await this.whenIdle();
    return this.info().synced;
  }
}

/** The index class for a network's subsidy schedule (openIndex constructs it). */
export function coinStatsIndexFor(params: SubsidyParams) {
  return class extends CoinStatsIndex {
    protected readonly params = params;
  };
}

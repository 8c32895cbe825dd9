// dumptxoutset's rollback: the UTXO set as it stood at an earlier block of the active chain,
// computed from the blocks above it and their undo data without moving the chain. Core rolls its
// chain back for the dump (invalidateblock, network off, reconsiderblock after); Tally instead
// reads each block from the snapshot's tip down to the target, newest first, and keeps the
// difference (outputs created since, to leave out; coins spent since, to put back), then walks
// the tip's set once with the difference merged in, in the set's own order (txid bytes, then
// index). The node keeps serving, syncing and mining meanwhile, and nothing is left changed by an
// interruption. The difference is held in memory: at most MAX_ROLLBACK_CHANGES entries.
import type { StoredCoin } from '../chain/ports.js';
import { bytesToHex, compareBytes } from '../primitives/bytes.js';
import type { OutPoint } from '../primitives/tx.js';
import type { BlockInfo, ChainPort } from './ports.js';

/**
 * Coins left out or put back that a rollback may hold (about 200 bytes each: ~400 MB). Core has no
 * such bound because it rolls its on-disk chain state back; this is the price of not doing so.
 */
export const MAX_ROLLBACK_CHANGES = 2_000_000;

/** Why a rollback cannot be computed; dumptxoutset answers -1 with the message. */
export class RollbackError extends Error {
  override readonly name = 'RollbackError';
}

export interface RollbackChanges {
  /** Outpoints (txid hex:index) of the tip's set created after the target. */
  removed: Set<string>;
  /** Coins spent after the target, sorted as the set is (txid bytes, then index). */
  restored: [OutPoint, StoredCoin][];
}

const key = (hash: Uint8Array, index: number) => `${bytesToHex(hash)}:${index}`;

/**
 * The difference between the set at `from` (the snapshot's block) and at `to`, an ancestor of it:
 * each block's transactions undone in reverse order, their outputs left out, their inputs' coins
 * put back from the undo data. Throws RollbackError when a block or its undo data is pruned or
 * the difference outgrows MAX_ROLLBACK_CHANGES.
 */
export async function rollbackChanges(
  chain: Pick<ChainPort, 'getBlock' | 'getUndo'>,
  from: BlockInfo,
  to: BlockInfo,
  limit = MAX_ROLLBACK_CHANGES,
): Promise<RollbackChanges> {
  const removed = new Set<string>();
  const restored = new Map<string, [OutPoint, StoredCoin]>();
  for (let b: BlockInfo | null = from; b !== null && b.height > to.height; b = b.prev) {
    const [block, undo] = await Promise.all([chain.getBlock(b.hash), chain.getUndo(b.hash)]);
    if (block === undefined || undo === undefined)
      throw new RollbackError(
        'Could not roll back to requested height since necessary block data is already pruned.',
      );
    for (let t = block.txs.length - 1; t >= 0; t--) {
      const tx = block.txs[t];
      const txid = tx.txid();
      tx.outputs.forEach((_, i) => {
        const k = key(txid, i);
        if (!restored.delete(k)) removed.add(k);
      });
      if (t === 0) continue; // the coinbase spends nothing
      tx.inputs.forEach((input, j) => {
        const coin = undo[t - 1]?.[j];
        if (coin === undefined) throw new RollbackError(`undo data of block ${b.hashHex} is incomplete`);
        restored.set(key(input.prevout.hash, input.prevout.index), [input.prevout, { ...coin }]);
      });
    }
    if (removed.size + restored.size > limit)
      throw new RollbackError(
        `Could not roll back to requested height: more than ${limit} coin changes would be held in memory`,
      );
  }
  const sorted = [...restored.values()].sort(([a], [b]) => compareBytes(a.hash, b.hash) || a.index - b.index);
  return { removed, restored: sorted };
}

/** The tip's coins with a rollback's changes merged in, in the set's order. */
export async function* rolledBackCoins(
  coins: AsyncIterable<[OutPoint, StoredCoin]>,
  changes: RollbackChanges,
): AsyncGenerator<[OutPoint, StoredCoin]> {
  const back = changes.restored;
  let i = 0;
  const before = (a: OutPoint, b: OutPoint) => (compareBytes(a.hash, b.hash) || a.index - b.index) < 0;
  for await (const [op, coin] of coins) {
    while (i < back.length && before(back[i][0], op)) yield back[i++];
    if (!changes.removed.has(key(op.hash, op.index))) yield [op, coin];
  }
  while (i < back.length) yield back[i++];
}

// The number of unspent outputs at the tip, for /metrics and the explorer, without a scan per
// request: one scan in the background (the chain's utxoDigest, as gettxoutsetinfo) gives a
// baseline at some tip, and every block connected or disconnected after it adds its delta
// (spendable outputs created minus inputs spent). Blocks seen while the scan runs are held with
// the tip each one left; the scan names its tip, and only the deltas after the last time the
// chain stood there apply (a path that leaves a tip and comes back to it adds up to nothing, so
// any visit to it gives the same count). Fails soft: while the baseline is unknown the count is
// null, and a failed scan is logged and the count stays unknown.
import type { Block } from '../primitives/block.js';
import { isUnspendable } from '../script/script.js';

/** Blocks held while the baseline scan runs; past it the count stays unknown (logged by the caller). */
export const MAX_PENDING_BLOCKS = 10_000;

/** Unspent outputs a block adds when connected (negative of what it removes when disconnected). */
export function utxoDelta(block: Block): number {
  let delta = 0;
  block.txs.forEach((tx, i) => {
    for (const o of tx.outputs) if (!isUnspendable(o.scriptPubKey)) delta++;
    if (i > 0) delta -= tx.inputs.length;
  });
  return delta;
}

export class UtxoCounter {
  private count: number | null = null;
  private pending: { delta: number; tip: string }[] | null = [];

  get value(): number | null {
    return this.count;
  }

  /** A block was connected (+1) or disconnected (-1), leaving `tipAfter` (display hex) as the tip. */
  apply(block: Block, sign: 1 | -1, tipAfter: string): void {
    const delta = sign * utxoDelta(block);
    if (this.pending === null) {
      if (this.count !== null) this.count += delta;
      return;
    }
    if (this.pending.length < MAX_PENDING_BLOCKS) this.pending.push({ delta, tip: tipAfter });
    else this.pending = null; // too much moved during the scan: the count stays unknown
  }

  /** The scan's result: `count` outputs when `bestBlock` was the tip. */
  baseline(count: number, bestBlock: string): boolean {
    if (this.pending === null) return false;
    let from = 0;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (this.pending[i].tip === bestBlock) {
        from = i + 1;
        break;
      }
    }
    let n = count;
    for (let i = from; i < this.pending.length; i++) n += this.pending[i].delta;
    this.count = n;
    this.pending = null;
    return true;
  }
}

// Which blocks to fetch next (the chain's half of Core's FindNextBlocksToDownload): the blocks of
// the best header chain that the node lacks, from its fork with the active chain upwards, lowest
// first, skipping any already failed. p2p/sync.ts decides which peer fetches which and when; this
// only answers "which blocks are wanted". Owns the best header path, rebuilt only when the best
// header or the active chain under it changes (so a catch-up of many blocks does not walk the
// whole path per request). Reads the block tree; fails in no way of its own.
import type { BlockEntry } from './block-index.js';

/** What the planner reads of the block tree. */
export interface DownloadTree {
  readonly bestHeader: BlockEntry;
  readonly height: number;
  isOnActiveChain(e: BlockEntry): boolean;
}

export class DownloadPlanner {
  /** The best header chain above the fork point with the active chain, lowest first. */
  private path: BlockEntry[] = [];
  private pathFor: BlockEntry | null = null;

  constructor(private readonly tree: DownloadTree) {}

  private bestPath(): BlockEntry[] {
    const tree = this.tree;
    const best = tree.bestHeader;
    const first = this.path[0];
    if (this.pathFor !== best || (first && first.prev && !tree.isOnActiveChain(first.prev))) {
      const out: BlockEntry[] = [];
      for (let e: BlockEntry | null = best; e && !tree.isOnActiveChain(e); e = e.prev) out.push(e);
      this.path = out.reverse();
      this.pathFor = best;
    }
    return this.path;
  }

  /** Up to `max` blocks to fetch, lowest first: wanted, not stored, not failed. */
  next(max: number): { hash: Uint8Array; height: number }[] {
    const p = this.bestPath();
    const out: { hash: Uint8Array; height: number }[] = [];
    if (p.length === 0) return out;
    // The path is rebuilt only when the best header moves, so while catching up its lower part
    // becomes the active chain: skip that part, but only when it is active (below a fork from
    // the active chain, every block from the fork up is wanted, however low).
    const skip = Math.min(p.length, this.tree.height + 1 - p[0].height);
    const start = skip > 0 && this.tree.isOnActiveChain(p[skip - 1]) ? skip : 0;
    for (let i = start; i < p.length && out.length < max; i++) {
      const e = p[i];
      if (!e.hasData() && !e.isFailed()) out.push({ hash: e.hash, height: e.height });
    }
    return out;
  }
}

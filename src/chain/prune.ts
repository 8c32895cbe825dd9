// Pruning (Bitcoin Core's FindFilesToPrune and PruneBlockFilesManual): delete whole block files
// (a blk file and its rev file) whose blocks are all at least MIN_BLOCKS_TO_KEEP below the tip,
// oldest first; automatically until the files fit the target, or up to a height on request
// (pruneblockchain). The coins on disk are flushed to the tip first, so no start-up replay needs
// a deleted block; the index records the loss (HAVE_DATA cleared, PRUNED set) before the files go,
// so a crash in between leaves unreferenced files (pruned again later), never an index naming
// bytes that are gone.
import type { BlockTree } from './tree.js';
import type { Activation } from './activation.js';
import { BlockStatus, type ChainStore } from './ports.js';
import type { Logger } from '../primitives/logger.js';

/** Core's MIN_BLOCKS_TO_KEEP: blocks below the tip never pruned, so reorgs can disconnect them. */
export const MIN_BLOCKS_TO_KEEP = 288;

export interface PruneDeps {
  tree: BlockTree;
  store: ChainStore;
  activation: Activation;
  log?: Logger;
}

export class Pruner {
  /** @param targetBytes automatic target for the block and undo files; 0: only on request. */
  constructor(
    private readonly d: PruneDeps,
    readonly targetBytes: number,
  ) {}

  /** Core's PRUNE_TARGET_MANUAL (prune=1). */
  get automatic(): boolean {
    return this.targetBytes > 0;
  }

  /** After the tip moved: prunes the oldest files while the files are over the target. */
  async auto(): Promise<void> {
    if (!this.automatic) return;
    let usage = this.d.store.blockFilesBytes();
    if (usage < this.targetBytes) return;
    const files: number[] = [];
    for (const f of this.d.store.prunableFiles(this.d.tree.height - MIN_BLOCKS_TO_KEEP)) {
      if (usage < this.targetBytes) break;
      files.push(f.file);
      usage -= f.bytes;
    }
    await this.prune(files);
  }

  /** pruneblockchain: prunes every file whose blocks are all at or below `height` (kept at least
   * MIN_BLOCKS_TO_KEEP below the tip). */
  async upTo(height: number): Promise<void> {
    const limit = Math.min(height, this.d.tree.height - MIN_BLOCKS_TO_KEEP);
    await this.prune(this.d.store.prunableFiles(limit).map((f) => f.file));
  }

  private async prune(files: number[]): Promise<void> {
    if (files.length === 0) return;
    const { store, tree, activation } = this.d;
    await activation.flush();
    const batch = store.batch();
    let blocks = 0;
    for (const hash of store.forgetFiles(files)) {
      const e = tree.getEntry(hash);
      if (!e) continue;
      e.status = (e.status & ~BlockStatus.HAVE_DATA) | BlockStatus.PRUNED;
      batch.putIndex(e.hash, e.record());
      blocks++;
    }
    await batch.write();
    await store.removeFiles(files);
    this.d.log?.info({ files, blocks, bytesLeft: store.blockFilesBytes() }, 'pruned block files');
  }

  /** Core's GetPruneHeight: the height of the last pruned block of the active chain, or null. */
  pruneHeight(): number | null {
    const tip = this.d.tree.tip;
    if (tip.height === 0) return null;
    for (let e: typeof tip | null = tip; e && e.height > 0; e = e.prev) if (!e.hasData()) return e.height;
    return null;
  }
}

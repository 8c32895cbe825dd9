// Pruning (Bitcoin Core's FindFilesToPrune and PruneBlockFilesManual): delete whole block files
// (a blk file and its rev file) whose blocks are all at least MIN_BLOCKS_TO_KEEP below the tip,
// oldest first; automatically until the files fit the target, or up to a height on request
// (pruneblockchain). The coins on disk are flushed to the tip first, so no start-up replay needs
// a deleted block; the index records the loss (HAVE_DATA cleared, PRUNED set) before the files go,
// so a crash in between leaves unreferenced files (pruned again later), never an index naming
// bytes that are gone. Indexes still catching up hold prune locks (Core's m_prune_locks): no file
// holding a block within PRUNE_LOCK_BUFFER of an index's best block, or above it, is pruned.
import type { BlockTree } from './tree.js';
import type { Activation } from './activation.js';
import { BlockStatus, type ChainStore } from './ports.js';
import type { Logger } from '../primitives/logger.js';

/** Core's MIN_BLOCKS_TO_KEEP: blocks below the tip never pruned, so reorgs can disconnect them. */
export const MIN_BLOCKS_TO_KEEP = 288;

/** Core's PRUNE_LOCK_BUFFER: blocks below a prune lock's height also kept (an index may step back). */
export const PRUNE_LOCK_BUFFER = 10;

/** Core's PruneAfterHeight per network: automatic pruning waits until the chain is taller.
 * Regtest's is 100 with small test block files (Core's -fastprune); a network of one's own takes
 * 1,000 (as Core's signet and testnet). pruneblockchain does not wait, as Core's manual pruning. */
export function pruneAfterHeight(network: string, fastPrune = false): number {
  if (network === 'main' || network === 'bitcoin') return 100_000;
  if (network === 'regtest' && fastPrune) return 100;
  return 1_000;
}

export interface PruneDeps {
  tree: BlockTree;
  store: ChainStore;
  activation: Activation;
  log?: Logger;
}

export class Pruner {
  /** Core's m_prune_locks: per index, its best block's height (height_first). */
  private readonly locks = new Map<string, number>();

  /** @param targetBytes automatic target for the block and undo files; 0: only on request.
   * @param afterHeight no automatic pruning while the tip is at or below it (PruneAfterHeight). */
  constructor(
    private readonly d: PruneDeps,
    readonly targetBytes: number,
    private readonly afterHeight: number,
  ) {}

  /** Core's PRUNE_TARGET_MANUAL (prune=1). */
  get automatic(): boolean {
    return this.targetBytes > 0;
  }

  /** After the tip moved: prunes the oldest files while the files are over the target. */
  async auto(): Promise<void> {
    if (!this.automatic || this.d.tree.height <= this.afterHeight) return;
    if (this.d.store.blockFilesBytes() < this.targetBytes) return;
    await this.prune(() => {
      let usage = this.d.store.blockFilesBytes();
      const files: number[] = [];
      const last = this.lastPrunable(this.d.tree.height - MIN_BLOCKS_TO_KEEP);
      for (const f of this.d.store.prunableFiles(last)) {
        if (usage < this.targetBytes) break;
        files.push(f.file);
        usage -= f.bytes;
      }
      return files;
    });
  }

  /** pruneblockchain: prunes every file whose blocks are all at or below `height` (kept at least
   * MIN_BLOCKS_TO_KEEP below the tip). */
  async upTo(height: number): Promise<void> {
    await this.prune(() => {
      const last = this.lastPrunable(Math.min(height, this.d.tree.height - MIN_BLOCKS_TO_KEEP));
      return this.d.store.prunableFiles(last).map((f) => f.file);
    });
  }

  /** Core's UpdatePruneLock: `name` (an index) still needs the blocks above `heightFirst`. */
  setLock(name: string, heightFirst: number): void {
    this.locks.set(name, heightFirst);
  }

  /** An index that stopped (failed or removed) needs nothing kept any more. */
  removeLock(name: string): void {
    this.locks.delete(name);
  }

  /** The highest block that may be pruned: `limit`, lowered below every lock and its buffer. */
  private lastPrunable(limit: number): number {
    let last = limit;
    for (const [name, heightFirst] of this.locks) {
      const lockHeight = heightFirst - PRUNE_LOCK_BUFFER - 1;
      if (lockHeight < last) {
        last = lockHeight;
        this.d.log?.debug({ index: name, height: lockHeight }, 'prune lock limits pruning');
      }
    }
    return last;
  }

  /** Flushes the coins, then prunes the files `choose` names (chosen after the flush, with the
   * locks as they are then). */
  private async prune(choose: () => number[]): Promise<void> {
    const { store, tree, activation } = this.d;
    if (choose().length === 0) return;
    await activation.flush();
    const files = choose();
    if (files.length === 0) return;
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

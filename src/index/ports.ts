// What the optional indexes need from the chain (node/adapters.ts implements it on the Chain).
import type { Block } from '../primitives/block.js';
import type { BlockUndo } from '../chain/ports.js';

export interface IndexBlockRef {
  /** Internal byte order. */
  hash: Uint8Array;
  height: number;
}

export interface IndexChain {
  tip(): IndexBlockRef;
  /** The active chain's block at `height`, if any. */
  atHeight(height: number): IndexBlockRef | undefined;
  /** Whether `hash` is on the active chain. */
  isActive(hash: Uint8Array): boolean;
  /** The block's parent, for any block the chain knows. */
  parent(hash: Uint8Array): IndexBlockRef | undefined;
  getBlock(hash: Uint8Array): Promise<Block | undefined>;
  /** The coins a block spent: per non-coinbase transaction, per input. */
  getUndo(hash: Uint8Array): Promise<BlockUndo | undefined>;
  /** Height of the last pruned block of the active chain (Core's GetPruneHeight), or null. */
  pruneHeight(): number | null;
  /** Core's UpdatePruneLock: keeps the blocks above `heightFirst` (less a buffer) from pruning. */
  setPruneLock(name: string, heightFirst: number): void;
  /** Releases the index's prune lock (an index that stopped with an error keeps nothing). */
  removePruneLock(name: string): void;
  /** Called after every change of the tip; returns an unsubscribe function. */
  onTip(f: () => void): () => void;
}

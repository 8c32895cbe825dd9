// The chain's public shapes: options, results of processing headers and blocks, the tip, chain
// tips, the UTXO digest and the events the chain emits.
import type { Block } from '../primitives/block.js';
import type { ChainParams } from '../consensus/params.js';
import type { RejectError } from '../consensus/errors.js';
import type { SigCache } from '../script/sigcache.js';
import type { ScriptVerifyPool } from './verify-pool.js';
import type { BlockEntry } from './block-index.js';
import type { ChainStore, StoredCoin } from './ports.js';
import type { OutPoint } from '../primitives/tx.js';
import type { Logger } from '../primitives/logger.js';

export interface ChainOptions {
  store: ChainStore;
  params: ChainParams;
  /** Coins cache size in MiB (Bitcoin Core's -dbcache); 0 flushes after every block. Default 300. */
  dbcacheMB?: number;
  /**
   * Script-check worker threads beside the calling thread, which verifies a share too (so Core's
   * -par=N is N - 1 here); 0 verifies on the calling thread alone. Default: one fewer than the cores.
   */
  verifyThreads?: number;
  /** A pool to share (the chain then does not close it). */
  verifyPool?: ScriptVerifyPool;
  /**
   * The signature cache of the pool the chain makes (the mempool's, so signatures verified on
   * entry are not verified again when their block connects).
   */
  sigCache?: SigCache;
  logger?: Logger;
  /** Seconds since the epoch; tests inject their own clock. */
  now?: () => number;
  /** Blocks verified at start-up (Bitcoin Core's -checkblocks). Default 6. */
  checkBlocks?: number;
  /** Rebuild the UTXO set from stored blocks at start-up. */
  reindex?: boolean;
  /** Prune mode (Core's -prune): the automatic target for block and undo files in bytes, 0 for
   * pruneblockchain only. Undefined: every block is kept. */
  pruneTargetBytes?: number;
  /** No automatic pruning at or below this height (Core's PruneAfterHeight). Default: the
   * network's (prune.ts's pruneAfterHeight). */
  pruneAfterHeight?: number;
  /** Orphan blocks held at most. Default 100. */
  maxOrphans?: number;
  /** Entries of the script-execution cache. Default 100,000. */
  scriptCacheSize?: number;
  /** Largest write batch of a coins flush in bytes (Bitcoin Core's -dbbatchsize). Default 16 MiB. */
  maxBatchBytes?: number;
  /**
   * Connect stored blocks that are not yet on the active chain during open (default true). Pass
   * false to subscribe to events first, then call activate().
   */
  activate?: boolean;
}

export interface ProcessResult {
  /** False when the block (or its data) was rejected; reason then says why. */
  accepted: boolean;
  reason?: string;
  /** The error with its category and DoS score, when rejected. */
  error?: RejectError;
  /** The block was not known with its data before. */
  isNew: boolean;
  /** Held until its parent arrives. */
  orphan?: boolean;
}

export interface HeadersResult {
  /** Headers added to the index. */
  added: number;
  reason?: string;
  error?: RejectError;
  /** The entry of the last header processed, if it is known. */
  last?: BlockEntry;
}

export interface TipInfo {
  hash: Uint8Array;
  hashHex: string;
  height: number;
  chainWork: bigint;
  time: number;
  bits: number;
  medianTimePast: number;
}

export interface UtxoDigest {
  height: number;
  bestBlock: string;
  /** Unspent outputs. */
  count: number;
  totalAmount: bigint;
  /** Core's hash_serialized_3 of the set (coin-stats.ts), display hex. */
  hash: string;
}

/** The UTXO set at one tip, read in the database's order (txid internal bytes, then index). */
export interface CoinsSnapshot {
  height: number;
  /** Display hex. */
  bestBlock: string;
  /** Internal byte order. */
  hash: Uint8Array;
  coins: AsyncIterable<[OutPoint, StoredCoin]>;
}

export interface ChainTip {
  height: number;
  hash: string;
  branchlen: number;
  status: 'active' | 'valid-fork' | 'valid-headers' | 'headers-only' | 'invalid';
}

export interface ConnectEvent {
  block: Block;
  entry: BlockEntry;
  height: number;
  /** Wall time of validating and writing the block (connect; 0 for a disconnect). */
  seconds: number;
}

export interface ChainEvents {
  connect: [ConnectEvent];
  disconnect: [ConnectEvent];
  tip: [BlockEntry];
}

// The narrow interfaces through which p2p reaches the rest of the node (DESIGN.md §2): the chain,
// the mempool and a logger. node/ adapts the concrete Chain and Mempool to these; tests use fakes.
// Nothing here does anything; every method's contract is stated where it is declared.
import type { Block, BlockHeader } from '../primitives/block.js';
import type { Tx } from '../primitives/tx.js';

/** p2p logs nothing unless given one. */
export type { Logger } from '../primitives/logger.js';

/** A verdict on data a peer sent. `dos` > 0 scores the peer that sent it (100 = discourage now). */
export interface Verdict {
  reason?: string;
  dos?: number;
}

/** All hashes are in internal byte order. */
export interface P2PChain {
  /** Height and hash of the last connected block (the active tip). */
  tipHeight(): number;
  tipHash(): Uint8Array;
  /** Height of the best validated header (>= tipHeight()). */
  headerTipHeight(): number;
  /** Hash of that header (Core's m_best_header). */
  headerTipHash(): Uint8Array;
  /** True when the block is the tip or one of its ancestors (Core's ActiveChain().Contains). */
  isOnActiveChain(hash: Uint8Array): boolean;
  /** Height of a known header (any branch), or undefined when unknown. */
  headerHeight(hash: Uint8Array): number | undefined;
  getHeader(hash: Uint8Array): BlockHeader | undefined;
  /** Core's block locator from `from` (default: the best header) back to genesis. */
  getLocator(from?: Uint8Array): Uint8Array[];
  /**
   * Headers of the active chain after the first locator hash found on it (genesis if none), up to
   * and including `stop` (all zero = no stop), at most `max`. Answers a peer's getheaders.
   */
  getHeadersAfter(locator: Uint8Array[], stop: Uint8Array, max: number): BlockHeader[];
  /** True when the block's body is stored (connected or not). */
  hasBlock(hash: Uint8Array): boolean;
  /** Raw serialised block, to serve a getdata without re-encoding. */
  getBlockBytes(hash: Uint8Array): Promise<Uint8Array | null>;
  /**
   * Validates and stores a run of headers (consecutive, the first one's parent known). ok=false
   * with dos > 0 when the peer sent something invalid (bad proof of work, bad bits, too little work).
   */
  processHeaders(headers: BlockHeader[]): Promise<Verdict & { ok: boolean }>;
  /**
   * Blocks still to download on the best header chain, lowest height first, starting at its fork
   * point with the active chain (below the tip when the best headers are a heavier fork), at most
   * `max`. This is the download window's source of truth.
   */
  blocksToDownload(max: number): { hash: Uint8Array; height: number }[];
  /**
   * Validates a block whose parent is connected (p2p hands blocks over in chain order) and connects
   * it when it extends the best chain. accepted=false with dos for an invalid block; a block the
   * chain already has is accepted=true.
   */
  processBlock(block: Block): Promise<Verdict & { accepted: boolean }>;
  /**
   * processBlock for a run of blocks in chain order, handed over together. `supply` gives the
   * blocks after the run, one at a time as the chain asks for them (null when there is none yet),
   * so that its pipeline goes on through them. One verdict each: the run's, then those supplied.
   */
  processBlocks(blocks: Block[], supply?: () => Block | null): Promise<(Verdict & { accepted: boolean })[]>;
  /**
   * Optional: true when the header chain ending at `hash` has less work than the network's minimum
   * chain work (Core's nMinimumChainWork). A peer whose whole chain is that weak is dropped while
   * catching up, as Core does, so a cheap fork cannot hold the node back.
   */
  belowMinimumWork?(hash: Uint8Array): boolean;
  /** Height, time, bits, median time past and chain work of a known header (any branch). */
  headerSummary(hash: Uint8Array): HeaderSummary | undefined;
  /**
   * Work a header chain must reach before its headers are stored (Core's GetAntiDoSWorkThreshold):
   * the larger of the minimum chain work and the tip's work less 144 blocks at the tip's bits, so
   * a fork near the tip is taken at once. Below it, headers go through pre-sync (headers-sync.ts).
   */
  antiDoSWorkThreshold(): bigint;
  /**
   * Proof of work of `h` and whether its bits may follow a parent known only by height, time and
   * bits (Core's PermittedDifficultyTransition); a reason when not. Pre-sync keeps no ancestors.
   */
  checkHeaderLink(prev: { height: number; time: number; bits: number }, h: BlockHeader): string | undefined;
  /** True while catching up: new blocks are not announced and transactions are not fetched. */
  isInitialBlockDownload(): boolean;
  /** Called after each change of the active tip; returns the unsubscribe function. */
  onTip(cb: (hash: Uint8Array, height: number) => void): () => void;
}

export interface HeaderSummary {
  hash: Uint8Array;
  height: number;
  time: number;
  bits: number;
  /** Median time past at this header. */
  mtp: number;
  chainWork: bigint;
}

export interface P2PMempool {
  has(txid: Uint8Array): boolean;
  get(txid: Uint8Array): Tx | undefined;
  /**
   * policy=true marks a rejection by local policy (never scored); otherwise dos scores the sender
   * of a consensus-invalid transaction. `peer` (its id) is who sent it: a transaction missing
   * inputs (reason 'missing-inputs') is then kept as that peer's orphan until a parent arrives.
   */
  accept(tx: Tx, peer?: number): Promise<Verdict & { accepted: boolean; policy?: boolean }>;
  /** A peer left: the orphans only it gave are dropped. */
  peerGone(peer: number): void;
  /**
   * Called when a kept orphan, tried again once a parent arrived, is refused for another reason
   * than missing inputs, with the peers that gave it; returns the unsubscribe function.
   */
  onOrphanRejected?(
    cb: (tx: Tx, peers: number[], verdict: Verdict & { policy: boolean }) => void,
  ): () => void;
  txids(): Uint8Array[];
  /** Called for every transaction entering the pool, from any source; returns the unsubscribe. */
  onAccepted(cb: (tx: Tx) => void): () => void;
}

/** The part of ChainParams p2p uses (structurally compatible with consensus/params.ts). */
export interface P2PNetworkParams {
  magic: Uint8Array;
  defaultPort: number;
  seeds: string[];
}

// The narrow interfaces mining/ reaches the chain and the pool through (DESIGN.md §2, issue 13):
// what templates, proposals and the block producer read or ask, and nothing else. node/ passes
// the chain and the mempool, which satisfy these structurally; mining/ never names their classes
// and subscribes to none of their events (node/ calls BlockProducer.tipChanged). The architecture
// test checks that mining/ imports no concrete class of another part.
import type { Coin } from '../consensus/tx-verify.js';
import type { ChainParams } from '../consensus/params.js';
import type { MempoolEntry } from '../mempool/mempool.js';
import type { Block } from '../primitives/block.js';
import type { OutPoint } from '../primitives/tx.js';

/** The block a template builds on. */
export interface MiningTip {
  /** Internal byte order. */
  readonly hash: Uint8Array;
  readonly height: number;
}

/** What a template needs of the chain: its tip, the tip's median time past and the next target. */
export interface TemplateChain {
  readonly tip: MiningTip;
  /** Median time past of the tip. */
  medianTimePast(): number;
  /** Compact target the block after the tip must meet. */
  nextWorkRequired(): number;
}

/** What a BIP23 proposal needs besides: parameters, the active chain's clock and the tip's coins. */
export interface ProposalChain extends TemplateChain {
  readonly params: ChainParams;
  /** Median time past of the block at `height` on the active chain (BIP68 time locks). */
  medianTimePastAt(height: number): number;
  /** Hash (internal byte order) of the active chain's block at `height`; undefined above the tip. */
  getBlockHashAtHeight(height: number): Uint8Array | undefined;
  /** Unspent coins, one batched read. */
  getCoins(ops: readonly OutPoint[]): Promise<(Coin | undefined)[]>;
}

/** The chain as the block producer sees it: it also submits what it finds. */
export interface ProducerChain extends ProposalChain {
  readonly height: number;
  processBlock(block: Block): Promise<{ accepted: boolean; reason?: string }>;
}

/** What a template reads of the pool (entries are mempool/'s plain records). */
export interface TemplatePool {
  all(): MempoolEntry[];
  ancestors(e: MempoolEntry): Map<string, MempoolEntry>;
  /** Fee plus prioritisetransaction's delta: ranks packages (the coinbase takes real fees). */
  modifiedFee(e: MempoolEntry): bigint;
}

/** The pool as the block producer sees it: it also drops a transaction that invalidates a template. */
export interface ProducerPool extends TemplatePool {
  /** Grows with every addition and removal. */
  readonly revision: number;
  get(txid: Uint8Array | string): MempoolEntry | undefined;
  removeWithDescendants(e: MempoolEntry, reason: string): void;
  /** Resolves once the changes to the pool under way have ended (a reorg refilling it). */
  settled(): Promise<void>;
}

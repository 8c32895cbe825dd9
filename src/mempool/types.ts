// The pool's shapes, shared by mempool.ts, validate.ts and those reaching the pool (plain records
// and options; no behaviour). Owns nothing else.
import type { RejectError } from '../consensus/errors.js';
import type { Coin } from '../consensus/tx-verify.js';
import type { OutPoint, Tx } from '../primitives/tx.js';
import type { SigCache } from '../script/sigcache.js';

/** What the pool needs from the chain: the tip, its clock, and confirmed coins in batches. */
export interface MempoolChain {
  tipHeight(): number;
  /** Median time past of the tip (BIP113 cut-off for the next block). */
  tipMedianTimePast(): number;
  /** Median time past of the block at `height` on the active chain (BIP68 time locks). */
  medianTimePastAt(height: number): number;
  /** Unspent confirmed coins, one batched read. */
  getCoins(outpoints: readonly OutPoint[]): Promise<(Coin | undefined)[]>;
}

export interface MempoolParams {
  coinbaseMaturity: number;
  csvHeight: number;
}

export interface MempoolOptions {
  chain: MempoolChain;
  params: MempoolParams;
  /** Byte budget of the pool (Core's -maxmempool, default 300 MB). */
  maxBytes?: number;
  /** Base units per 1,000 bytes. */
  minRelayFeeRate?: bigint;
  /** What a replacement pays for its own relay, base units per 1,000 bytes (Core's -incrementalrelayfee). */
  incrementalRelayFeeRate?: bigint;
  ancestorLimit?: number;
  descendantLimit?: number;
  /** Orphan transactions kept (Core's -maxorphantx, default 100; orphanage.ts). */
  maxOrphans?: number;
  sigCache?: SigCache;
  /** Told of every transaction whose scripts passed with the given flags (the chain can skip it later). */
  onScriptsVerified?: (txid: Uint8Array, flags: number) => void;
  now?: () => number;
}

export interface MempoolEntry {
  readonly tx: Tx;
  readonly txid: string;
  readonly fee: bigint;
  readonly size: number;
  /** Seconds since the epoch when it entered. */
  readonly time: number;
  /** Tip height when it entered. */
  readonly height: number;
  readonly sigops: number;
}

export interface AcceptOptions {
  /** Run every check but do not add it (testmempoolaccept). */
  testOnly?: boolean;
  /** Skip the fee floors (re-adding transactions of a disconnected block). */
  bypassFeeChecks?: boolean;
  /** Entry time to record (restoring a saved pool); defaults to now. */
  time?: number;
  /**
   * The peer that sent it (p2p's id): a transaction missing inputs is kept as an orphan only then,
   * as Core keeps none from RPC.
   */
  peer?: number;
  /** Refuse a fee rate above this, base units per 1,000 bytes (Core's client maxfeerate; submitpackage). */
  maxFeeRate?: bigint;
}

/** One transaction's outcome in acceptPackage (Core's MempoolAcceptResult). */
export type PackageTxResult =
  | {
      kind: 'valid';
      entry: MempoolEntry;
      /** Modified fee per 1,000 bytes it was judged by: its own, or its package's. */
      effectiveFeeRate: bigint;
      /** Internal txid hex of the transactions whose fees and sizes made that rate. */
      includes: string[];
      replaced: MempoolEntry[];
    }
  | { kind: 'in-pool'; entry: MempoolEntry }
  | { kind: 'invalid'; error: RejectError }
  | { kind: 'unevaluated' };

/** acceptPackage's answer: Core's package_msg and each transaction's result by internal txid hex. */
export interface PackageResult {
  message: string;
  results: Map<string, PackageTxResult>;
}

/** A validated transaction and the pool entries it replaces. */
export interface Validated {
  entry: MempoolEntry;
  replaces: MempoolEntry[];
}

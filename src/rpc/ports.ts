// The narrow interfaces rpc/ reaches the rest of the node through (DESIGN.md §2, issue 13): what
// each method file reads or asks of the chain, the pool, peers, the miner and the fee estimator,
// and nothing else. node/ passes the parts (or adapters over them); rpc/ never names their
// classes, and never subscribes to their events: node/ forwards events to the hooks the register
// functions return. The architecture test checks that rpc/ imports no concrete class of a part.
import type { ChainParams } from '../consensus/params.js';
import type { BlockHeader, Block } from '../primitives/block.js';
import type { OutPoint, Tx } from '../primitives/tx.js';
import type { MempoolEntry, PackageResult } from '../mempool/mempool.js';
import type { Orphan } from '../mempool/orphanage.js';
import type { BanEntry } from '../p2p/banlist.js';
import type { PeerInfo } from '../p2p/node.js';
import type { Wallet } from '../wallet/wallet.js';
import type { CoinsSnapshot } from '../chain/types.js';
import type { CoinStatsTotals } from '../chain/coin-stats.js';

export type { CoinsSnapshot };

/** One known header: what Core's CBlockIndex offers an RPC. */
export interface BlockInfo {
  readonly hash: Uint8Array;
  readonly hashHex: string;
  readonly height: number;
  readonly header: BlockHeader;
  readonly chainWork: bigint;
  readonly prev: BlockInfo | null;
  readonly time: number;
  readonly bits: number;
  hasData(): boolean;
  /** The body was stored, then pruned (Core's IsBlockPruned). */
  isPruned(): boolean;
  isFailed(): boolean;
}

export interface CoinInfo {
  value: bigint;
  script: Uint8Array;
  height: number;
  coinbase: boolean;
}

export interface ChainTipInfo {
  height: number;
  hash: string;
  branchlen: number;
  status: 'active' | 'valid-fork' | 'valid-headers' | 'headers-only' | 'invalid';
}

export interface UtxoSummary {
  height: number;
  bestBlock: string;
  count: number;
  totalAmount: bigint;
  hash: string;
}

/** The coinstatsindex as gettxoutsetinfo sees it. */
export interface CoinStatsPort {
  info(): { synced: boolean; best_block_height: number };
  /** Whether the index has reached the tip (waits for a block in progress only). */
  syncedToTip(): Promise<boolean>;
  /** The totals after a block (internal order), if it was indexed. */
  get(hash: Uint8Array): Promise<CoinStatsTotals | undefined>;
}

export interface BlockVerdict {
  accepted: boolean;
  reason?: string;
  isNew: boolean;
  orphan?: boolean;
}

export interface HeadersVerdict {
  error?: { reason: string };
}

/** The chain as RPC sees it. */
export interface ChainPort {
  readonly params: ChainParams;
  readonly height: number;
  readonly tip: BlockInfo;
  readonly bestHeader: BlockInfo;
  getEntry(hash: Uint8Array | string): BlockInfo | undefined;
  getEntryAtHeight(height: number): BlockInfo | undefined;
  isOnActiveChain(e: BlockInfo): boolean;
  medianTimePast(e?: BlockInfo): number;
  getBlock(hash: Uint8Array | string): Promise<Block | undefined>;
  getCoin(op: OutPoint): Promise<CoinInfo | undefined>;
  getCoins(ops: readonly OutPoint[]): Promise<(CoinInfo | undefined)[]>;
  /** The coins a stored block's transactions spent (undo data): [i][j] is input j of tx i + 1. */
  getUndo(hash: Uint8Array): Promise<CoinInfo[][] | undefined>;
  /** Compact target the block after `prev` (default the tip) must meet. */
  nextWorkRequired(prev?: BlockInfo): number;
  getChainTips(): ChainTipInfo[];
  utxoDigest(): Promise<UtxoSummary>;
  /** Flushes and opens a read of the whole UTXO set at the tip (read it to the end or break). */
  coinsSnapshot(): Promise<CoinsSnapshot>;
  processBlock(block: Block): Promise<BlockVerdict>;
  processHeaders(headers: readonly BlockHeader[]): Promise<HeadersVerdict>;
  invalidateBlock(hash: Uint8Array | string): Promise<void>;
  /** Core's preciousblock: first among equal-work tips. */
  preciousBlock(hash: Uint8Array | string): Promise<void>;
  reconsiderBlock(hash: Uint8Array | string): Promise<void>;
  /** Prune mode (null: off); automatic when it prunes by itself to a target. */
  readonly pruneMode: { automatic: boolean } | null;
  /** Height of the last pruned block of the active chain (Core's GetPruneHeight), or null. */
  pruneHeight(): number | null;
  /** Prunes block files up to `height` (never the last 288 blocks); the new prune height. */
  pruneBlockchain(height: number): Promise<number | null>;
}

/** A pool entry is mempool/'s plain record. */
export type PoolEntry = MempoolEntry;

/** The transaction pool as RPC sees it. */
export interface MempoolPort {
  readonly size: number;
  readonly totalBytes: number;
  readonly maxBytes: number;
  readonly minRelayFeeRate: bigint;
  /** What a replacement pays for its own relay (BIP125 rule 4), per 1,000 bytes. */
  readonly incrementalRelayFeeRate: bigint;
  /** Grows with every addition and removal. */
  readonly revision: number;
  /** Resolves once the changes to the pool under way have ended (a reorg refilling it). */
  settled(): Promise<void>;
  has(txid: Uint8Array | string): boolean;
  get(txid: Uint8Array | string): PoolEntry | undefined;
  all(): PoolEntry[];
  spender(op: OutPoint): PoolEntry | undefined;
  minFeeRate(): bigint;
  parents(e: PoolEntry): PoolEntry[];
  children(e: PoolEntry): PoolEntry[];
  ancestors(e: PoolEntry): Map<string, PoolEntry>;
  descendants(e: PoolEntry): Map<string, PoolEntry>;
  accept(tx: Tx, opts?: { testOnly?: boolean }): Promise<PoolEntry>;
  /** Core's ProcessNewPackage (submitpackage): the package rules, then each transaction, CPFP by package fee rate. */
  acceptPackage(txs: readonly Tx[], opts?: { maxFeeRate?: bigint }): Promise<PackageResult>;
  /** Orphan transactions held, oldest first (getorphantxs). */
  orphans(): Orphan[];
  /** Fee plus prioritisetransaction's delta. */
  modifiedFee(e: PoolEntry): bigint;
  /** Core's PrioritiseTransaction (txid as internal hex); kept for a transaction not yet in the pool. */
  prioritise(txid: string, delta: bigint): void;
  prioritised(): [txid: string, delta: bigint][];
}

export interface FeeEstimatePort {
  estimate(target: number): { feerate: bigint; blocks: number } | null;
}

/** Templates and proposals (mining/) over the current tip and pool. */
export interface TemplatePort<T> {
  create(now: number): T;
  checkProposal(block: Block, now: number): Promise<string | null>;
}

/** The block producer as RPC sees it. */
export interface ProducerPort {
  readonly running: boolean;
  readonly hashrate: number;
  /** The hashing kernel in use (e.g. native-avx512, wasm-simd). */
  readonly kernel: string;
  readonly blocksFound: number;
  mineBlocks(n: number, payoutScript: Uint8Array, opts?: { maxTries?: number }): Promise<string[]>;
  /** generateblock: exactly these transactions after a subsidy-only coinbase, solved, submitted if asked. */
  generateBlock(
    payoutScript: Uint8Array,
    txs: readonly Tx[],
    opts: { submit: boolean; maxTries: number },
  ): Promise<{ block: Block } | { invalid: string } | { failed: 'tries' } | { notAccepted: string }>;
}

/** What a part hands node/ to be told of chain events (pool changes are read via revision). */
export interface EventHooks {
  tipChanged(): void;
}

/** The node's logger as the logging RPC sees it (node/logging.ts). */
export interface LoggingPort {
  /** Every category and whether it logs at debug level now. */
  categories(): Record<string, boolean>;
  setDebug(include: readonly string[], exclude: readonly string[]): void;
}

/** The peer-to-peer node as RPC sees it (PeerInfo and BanEntry are p2p's plain records). */
export interface NetPort {
  readonly url: string;
  readonly userAgent: string;
  /** Service bits advertised (NODE_NETWORK, or NODE_NETWORK_LIMITED when pruned). */
  readonly services: bigint;
  /** Height of the chain the peers are served from. */
  tipHeight(): number;
  /** Whether transactions are relayed (a pool is attached). */
  readonly relaysTxs: boolean;
  peerInfo(): PeerInfo[];
  connectionCount(): { inbound: number; outbound: number };
  netTotals(): { bytesSent: number; bytesRecv: number };
  pingPeers(): void;
  addNode(address: string, command: 'add' | 'remove' | 'onetry'): boolean;
  addedNodes(): string[];
  disconnectPeer(idOrUrl: number | string): boolean;
  /** Core's fNetworkActive. */
  readonly networkActive: boolean;
  setNetworkActive(active: boolean): void;
  /** Core's FetchBlock: asks peer `id` for a block (internal hash); Core's error text or null. */
  fetchBlock(id: number, hash: Uint8Array): string | null;
  setBan(address: string, command: 'add' | 'remove', banTimeSec?: number): boolean;
  listBanned(): BanEntry[];
  clearBanned(): void;
  /**
   * The address book (Core's addrman): `max` > 0 draws a random sample of entries worth sharing
   * (none terrible); 0 lists every entry with the table it is in.
   */
  knownAddresses(max: number): { url: string; lastSeen: number; tried: boolean }[];
}

/**
 * The loaded wallets (wallet/'s WalletManager) as RPC sees them. A Wallet itself is wallet/'s own
 * API for the wallet methods (issue 15 reshapes it); the manager's class stays out of rpc/.
 */
export interface WalletsPort {
  get(name?: string): Wallet;
  names(): string[];
  available(): string[];
  load(name: string): Promise<Wallet>;
  /** restorewallet: a backup file becomes wallet `name`, loaded. */
  restore(name: string, backup: string): Promise<Wallet>;
  unload(name: string): void;
  /** load_on_startup: adds to or removes from the startup list; a warning when it failed. */
  setLoadOnStartup(name: string, load: boolean): string | undefined;
  create(
    name: string,
    opts?: { passphrase?: string; mnemonic?: string; avoidReuse?: boolean },
  ): Promise<{ wallet: Wallet; mnemonic: string }>;
}

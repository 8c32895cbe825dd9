// The wallet's public shapes (options, coins, balances, history entries) and the record each
// script the wallet follows maps to. Types only.
import type { AddressPrefixes } from '../primitives/address.js';
import type { OutPoint, Tx } from '../primitives/tx.js';
import type { Branch } from './keys.js';
import type { TxRecord } from './store.js';

export interface WalletChainInfo {
  network: string;
  prefixes: AddressPrefixes;
  coinbaseMaturity: number;
}

export interface WalletOptions extends WalletChainInfo {
  /** The wallet file, DATADIR/wallets/<name>.json. */
  path: string;
  now?: () => number;
  /** Told when a transaction enters the wallet or its block changes (Core's walletnotify). */
  onTxChanged?: (txid: string, blockHash: string | null, height: number | null) => void;
  /**
   * Whether the mempool holds a transaction (display txid). With it, as Core's IsTrusted, an
   * unconfirmed transaction's change is spendable only while the pool holds it; without it
   * (tests of the wallet alone) every unconfirmed transaction of ours counts.
   */
  inMempool?: (txid: string) => boolean;
  /**
   * Told when the wallet file could not be written (the file keeps its last whole version:
   * atomic-file.ts). An Error returned is the one line to give the caller (the node stops for a
   * full disk and says "Disk space is too low!"); undefined lets the file system's error through.
   */
  onWriteFailed?: (err: unknown, path: string) => Error | undefined;
}

export interface CreateOptions extends WalletOptions {
  passphrase?: string;
  mnemonic?: string;
  gap?: number;
  scrypt?: { N: number; r: number; p: number };
  /** createwallet's avoid_reuse: the wallet starts with Core's AVOID_REUSE flag set. */
  avoidReuse?: boolean;
}

export interface Coin {
  outpoint: OutPoint;
  txid: string;
  vout: number;
  value: bigint;
  script: Uint8Array;
  /** The address of its script; the script's hex for a watched script that has none. */
  address: string;
  /** The HD key; RECEIVE and -1 for an imported key or a watched script. */
  branch: Branch;
  index: number;
  /** The wallet can sign for it (Core's ISMINE_SPENDABLE); else it is watch-only. */
  spendable: boolean;
  /** The wallet knows how to spend it (a key or a redeem script), whether or not it can sign. */
  solvable: boolean;
  /** Serialized size of an input spending it, at most. */
  inputSize: number;
  confirmations: number;
  coinbase: boolean;
  /** Spendable now: mature, and confirmed or our own unconfirmed change. */
  trusted: boolean;
  immature: boolean;
  /** Its address was spent from before (Core's IsSpentKey): avoid_reuse keeps it out of sends. */
  used: boolean;
}

export interface Balances {
  trusted: bigint;
  untrustedPending: bigint;
  immature: bigint;
  /** Trusted and pending coins of used addresses, counted apart while avoiding reuse (only then). */
  used?: bigint;
}

/** What the wallet knows of an output script (getaddressinfo). */
export interface ScriptInfo {
  origin: 'hd' | 'key' | 'watch' | 'p2sh';
  spendable: boolean;
  solvable: boolean;
  change: boolean;
  /** The HD path, for keys of the HD chain (and those kept from a chain sethdseed replaced). */
  path?: string;
  /** That chain's seed id and master key fingerprint (hex), when known. */
  hdSeedId?: string;
  hdFingerprint?: string;
  publicKey?: Uint8Array;
  redeemScript?: Uint8Array;
  /** When it entered the wallet (imports), seconds. */
  time?: number;
}

export interface HistoryEntry {
  txid: string;
  category: 'send' | 'receive' | 'generate' | 'immature' | 'orphan';
  address: string | null;
  /** Negative for sends. */
  amount: bigint;
  /** Negative, sends only. */
  fee?: bigint;
  vout: number;
  confirmations: number;
  blockHash: string | null;
  blockHeight: number | null;
  blockTime: number | null;
  time: number;
  label?: string;
  /** A watch-only script is involved (Core's involvesWatchonly). */
  watchOnly?: boolean;
}

export interface KeyRef {
  branch: Branch;
  /** The HD index; -1 for imports. */
  index: number;
  origin: ScriptInfo['origin'];
  publicKey?: Uint8Array;
  redeemScript?: Uint8Array;
  time?: number;
  /** A key kept from an HD chain that sethdseed replaced. */
  hd?: { path: string; seedId?: string; fingerprint?: string };
}

export interface TxState {
  tx: Tx;
  rec: TxRecord;
}

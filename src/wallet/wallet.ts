// One HD wallet. Owns: its keys (mnemonic encrypted at rest, unlocked for a limited time, wiped
// on lock), its addresses (receive and change branches with a lookahead gap), the transactions
// that touch it and the coins they make, balances, history and building payments. Does not own
// the chain or the mempool: it follows them through onBlockConnected / onBlockDisconnected /
// onTxAccepted and hands transactions back to whoever broadcasts them. Every spender of an
// outpoint is kept (Core's mapTxSpends): a transaction double-spent by a confirmed one is
// conflicted (negative confirmations, its coins and change count for nothing) and comes back if
// that block is disconnected; an abandoned one frees its inputs. Sends run one at a time
// (runExclusive: choose coins, sign, broadcast, record). Built in layers: keychain.ts (keys,
// addresses, imports, the file), ledger.ts (transactions, coins, balances, history), this file
// (creating and loading, paying, locked coins). Fails with typed errors
// (WalletLockedError, WrongPassphraseError, InsufficientFundsError, AddressError, WalletError).
import { WalletLedger } from './ledger.js';
import type { CreateOptions, Coin, WalletOptions } from './types.js';
import { Mutex } from 'async-mutex';
import { Tx } from '../primitives/tx.js';
import {
  Branch,
  CHANGE,
  RECEIVE,
  accountKey,
  hdMasterOf,
  coinTypeFor,
  mnemonicToSeed,
  newMnemonic,
  normalizeMnemonic,
} from './keys.js';
import { WrongPassphraseError, calibrateScrypt, encryptSecret } from './keystore.js';
import { WalletError, WalletLockedError, WalletWriteError } from './errors.js';
import { WALLET_FILE_VERSION, WalletFile, readWalletFile } from './store.js';

export const DEFAULT_GAP = 20;

export { WalletError, WalletLockedError, WalletWriteError };
export { MAX_UNLOCK_SECONDS } from './keychain.js';
export type {
  Balances,
  Coin,
  CreateOptions,
  HistoryEntry,
  ScriptInfo,
  WalletChainInfo,
  WalletOptions,
} from './types.js';

export class Wallet extends WalletLedger {
  /** Sends one at a time: coin choice, signing, broadcast and recording are one step. */
  private readonly sendLock = new Mutex();
  /** lockunspent: outpoints ("txid:vout") no send may choose; persistent ones are also in the file. */
  private readonly lockedCoins = new Set<string>();
  /** settxfee: base units per 1,000 bytes, 0 = not set (Core's m_pay_tx_fee, kept in memory). */
  payTxFee = 0n;

  private constructor(file: WalletFile, opts: WalletOptions) {
    super(file, opts);
    for (const o of file.locked ?? []) this.lockedCoins.add(o);
  }

  static async create(opts: CreateOptions): Promise<{ wallet: Wallet; mnemonic: string }> {
    const mnemonic = opts.mnemonic !== undefined ? normalizeMnemonic(opts.mnemonic) : newMnemonic();
    const coinType = coinTypeFor(opts.network);
    const seed = mnemonicToSeed(mnemonic);
    const account = accountKey(seed, coinType);
    const hdMaster = hdMasterOf(seed);
    seed.fill(0);
    const xpub = (b: Branch) => account.deriveChild(b).publicExtendedKey;
    const secret =
      opts.passphrase !== undefined && opts.passphrase !== ''
        ? {
            encrypted: await encryptSecret(
              new TextEncoder().encode(mnemonic),
              opts.passphrase,
              opts.scrypt ?? (await calibrateScrypt()),
            ),
          }
        : { mnemonic };
    const file: WalletFile = {
      format: 'tally-wallet',
      version: WALLET_FILE_VERSION,
      network: opts.network,
      coinType,
      gap: opts.gap ?? DEFAULT_GAP,
      secret,
      receive: { xpub: xpub(RECEIVE), next: 0, used: 0 },
      change: { xpub: xpub(CHANGE), next: 0, used: 0 },
      labels: {},
      tip: null,
      txs: {},
      imported: { keys: [], scripts: [] },
      flags: opts.avoidReuse === true ? { avoid_reuse: true } : {},
      hdMaster,
      // A new phrase's keys are born now; a restored one's birth is unknown (rescans start at 0).
      ...(opts.mnemonic === undefined ? { hdBirth: Math.floor((opts.now ?? Date.now)() / 1000) } : {}),
    };
    account.wipePrivateData();
    const wallet = new Wallet(file, opts);
    wallet.save();
    return { wallet, mnemonic };
  }

  static load(opts: WalletOptions): Wallet {
    return new Wallet(readWalletFile(opts.path), opts);
  }

  // --- paying --------------------------------------------------------------------------------

  /** Runs a send (coin choice, signing, broadcast, recording) with no other send of this wallet in between. */
  runExclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.sendLock.runExclusive(fn);
  }

  /**
   * Coins a payment may spend: mature, confirmed or our own unconfirmed change (includeUnsafe: any
   * mature one, others' unconfirmed too), not locked, and ones the wallet can sign for (or,
   * includeWatching, watch-only ones it knows how to spend); with avoidReuse (default: the
   * wallet's avoid_reuse flag) none of an address spent from.
   */
  spendableCoins(includeWatching = false, avoidReuse = this.avoidReuse, includeUnsafe = false): Coin[] {
    return this.listCoins().filter(
      (c) =>
        (c.trusted || (includeUnsafe && !c.immature)) &&
        (c.spendable || (includeWatching && c.solvable)) &&
        !(avoidReuse && c.used) &&
        !this.lockedCoins.has(`${c.txid}:${c.vout}`),
    );
  }

  /** setwalletflag avoid_reuse. */
  setAvoidReuse(on: boolean): void {
    this.file.flags.avoid_reuse = on;
    this.save();
  }

  /**
   * Records a transaction this wallet made (after the node accepted it). A send succeeds only once
   * the file holds it: a write that failed when the pool's event recorded it is tried again here,
   * so the caller hears of a full disk.
   */
  commitTransaction(tx: Tx): void {
    this.onTxAccepted(tx);
    if (this.unsaved) this.save();
  }

  /** bumpfee recorded: `replacement` (already committed) took the place of `original`. */
  markReplaced(original: string, replacement: string): void {
    const a = this.txs.get(original);
    const b = this.txs.get(replacement);
    if (a !== undefined) a.rec.replacedBy = replacement;
    if (b !== undefined) b.rec.replaces = original;
    this.save();
  }

  /**
   * abandontransaction: frees the inputs of an unconfirmed transaction the pool does not hold
   * (and of its wallet descendants). False when it is confirmed or in the pool (Core's "not
   * eligible for abandonment"); throws WalletError for an unknown one.
   */
  abandon(txid: string): boolean {
    const st = this.txs.get(txid);
    if (st === undefined) throw new WalletError('Invalid or non-wallet transaction id');
    if (this.depth(st.rec) > 0 || this.opts.inMempool?.(txid) === true) return false;
    const mark = (id: string) => {
      const x = this.txs.get(id);
      if (x === undefined || x.rec.abandoned === true || this.depth(x.rec) > 0) return;
      x.rec.abandoned = true;
      for (const child of this.childrenOf(x.tx)) mark(child);
    };
    mark(txid);
    this.save();
    return true;
  }

  /**
   * Unconfirmed transactions that may still confirm (not conflicted, not abandoned), parents
   * first: what the node resubmits to its pool at load and rebroadcasts (Core's
   * ResubmitWalletTransactions).
   */
  pendingTransactions(): Tx[] {
    const out: Tx[] = [];
    const done = new Set<string>();
    const visit = (txid: string) => {
      const st = this.txs.get(txid);
      if (st === undefined || done.has(txid)) return;
      done.add(txid);
      if (st.rec.height !== null || st.tx.isCoinbase() || !this.isActive(txid)) return;
      // Bumped: its replacement is what should confirm.
      if (st.rec.replacedBy !== undefined) return;
      for (const i of st.tx.inputs) visit(i.prevout.txidHex());
      out.push(st.tx);
    };
    for (const txid of this.txs.keys()) visit(txid);
    return out;
  }

  // --- locked coins (lockunspent) ------------------------------------------------------------

  /** Locks (or unlocks) coins by "txid:vout"; persistent locks are written to the file. */
  setLocked(outpoints: string[], lock: boolean, persistent: boolean): void {
    const file = new Set(this.file.locked ?? []);
    for (const o of outpoints) {
      if (lock) this.lockedCoins.add(o);
      else this.lockedCoins.delete(o);
      if (lock && persistent) file.add(o);
      if (!lock) file.delete(o);
    }
    this.file.locked = [...file];
    this.save();
  }

  isLockedCoin(outpoint: string): boolean {
    return this.lockedCoins.has(outpoint);
  }

  /** Every locked outpoint, "txid:vout". */
  listLocked(): string[] {
    return [...this.lockedCoins];
  }
}

export { WrongPassphraseError };

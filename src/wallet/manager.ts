// The node's wallets: DATADIR/wallets/<name>.json, created, loaded and unloaded by name, and fed
// the chain's events (every loaded wallet follows the chain). Fails with WalletNotFoundError,
// WalletExistsError or WalletError (bad name, ambiguous choice).
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Block } from '../primitives/block.js';
import type { Tx } from '../primitives/tx.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { readWalletFile } from './store.js';
import { Wallet, WalletChainInfo, WalletError } from './wallet.js';

export class WalletNotFoundError extends WalletError {
  constructor(message: string) {
    super(message);
    this.name = 'WalletNotFoundError';
  }
}

export class WalletExistsError extends WalletError {
  constructor(name: string, message = `Wallet "${name}" already exists.`) {
    super(message);
    this.name = 'WalletExistsError';
  }
}

/** restorewallet of a backup file that is not there (Core's -8). */
export class WalletBackupError extends WalletError {
  constructor(message: string) {
    super(message);
    this.name = 'WalletBackupError';
  }
}

/** loadwallet or createwallet of a name that is loaded already (Core's -35). */
export class WalletAlreadyLoadedError extends WalletError {
  constructor(name: string) {
    super(`Wallet "${name}" is already loaded.`);
    this.name = 'WalletAlreadyLoadedError';
  }
}

/** More than one wallet is loaded and the request did not say which (Core's -19). */
export class WalletNotSpecifiedError extends WalletError {
  constructor() {
    super('Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).');
    this.name = 'WalletNotSpecifiedError';
  }
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

/**
 * How a wallet catches up with the chain before it is served: `sync` replays what the wallet has
 * not seen (all of it for a restored one), `isSynced` says whether it has reached the tip. The
 * manager loops until it has, then starts delivering block events, with no await between the last
 * check and the hand-over, so no block is missed or seen twice.
 */
export interface WalletFollower {
  isSynced(w: Wallet): boolean;
  sync(w: Wallet, opts: { restored: boolean }): Promise<void>;
  /**
   * The transactions waiting in the mempool, read once the wallet has reached the tip: a loaded or
   * restored wallet learns its unconfirmed ones from them (as Core's requestMempoolTransactions),
   * since the pool's 'accepted' events for them came before the wallet was listening.
   */
  pendingTxs?(): Tx[];
}

/** Parents before children, so a child's inputs are seen as the wallet's when it comes. */
function parentsFirst(txs: Tx[]): Tx[] {
  const byId = new Map(txs.map((t) => [t.txidHex(), t]));
  const done = new Set<string>();
  const out: Tx[] = [];
  const visit = (t: Tx, id: string) => {
    if (done.has(id)) return;
    done.add(id);
    for (const i of t.inputs) {
      const pid = i.prevout.txidHex();
      const parent = byId.get(pid);
      if (parent !== undefined) visit(parent, pid);
    }
    out.push(t);
  };
  for (const [id, t] of byId) visit(t, id);
  return out;
}

export interface WalletManagerOptions extends WalletChainInfo {
  /** DATADIR/wallets */
  dir: string;
  now?: () => number;
  /** Whether the mempool holds a transaction (display txid); see WalletOptions.inMempool. */
  inMempool?: (txid: string) => boolean;
  /**
   * Hands a wallet's unconfirmed transactions (parents first) back to the pool and the network:
   * called once a wallet is loaded and by resubmitAll (Core's ResubmitWalletTransactions). A
   * transaction refused is left as it is (abandontransaction frees its coins).
   */
  resubmit?: (txs: Tx[]) => Promise<void>;
  /** Without one (tests), wallets are served as loaded and see only the events given to them. */
  follower?: WalletFollower;
  /** A wallet's transaction entered it or changed block (walletnotify). */
  onTxChanged?: (wallet: string, txid: string, blockHash: string | null, height: number | null) => void;
  /** A wallet file could not be written; see WalletOptions.onWriteFailed. */
  onWriteFailed?: (err: unknown, path: string) => Error | undefined;
  /**
   * Core's settings.json (NETWORKDIR/settings.json): its "wallet" list names the wallets loaded at
   * startup (load_on_startup). Without one, every wallet file is loaded.
   */
  settingsFile?: string;
}

/** Core's warning when the settings file cannot be written. */
export const STARTUP_SETTING_WARNING =
  'Wallet load on startup setting could not be updated, so wallet may not be loaded next node startup.';

/** The settings file as an object, {} when there is none; throws when it is not a JSON object. */
function readSettings(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new WalletError(`${file} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Core's "wallet" setting: a list of names (one name alone is a list of one). */
function walletSetting(settings: Record<string, unknown>): string[] | undefined {
  const v = settings.wallet;
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.filter((n): n is string => typeof n === 'string');
}

export class WalletManager {
  private readonly loaded = new Map<string, Wallet>();

  constructor(private readonly opts: WalletManagerOptions) {}

  private pathOf(name: string): string {
    if (!NAME.test(name))
      throw new WalletError(`Invalid wallet name "${name}": use letters, digits, '_', '-', '.'`);
    return join(this.opts.dir, `${name}.json`);
  }

  private walletOptions(name: string) {
    const { network, prefixes, coinbaseMaturity, now, onTxChanged, inMempool, onWriteFailed } = this.opts;
    return {
      path: this.pathOf(name),
      network,
      prefixes,
      coinbaseMaturity,
      now,
      inMempool,
      onWriteFailed,
      onTxChanged:
        onTxChanged && ((txid: string, b: string | null, h: number | null) => onTxChanged(name, txid, b, h)),
    };
  }

  async create(
    name: string,
    opts: {
      passphrase?: string;
      mnemonic?: string;
      scrypt?: { N: number; r: number; p: number };
      avoidReuse?: boolean;
    } = {},
  ) {
    const path = this.pathOf(name);
    if (existsSync(path) || this.loaded.has(name)) throw new WalletExistsError(name);
    const created = await Wallet.create({ ...this.walletOptions(name), ...opts });
    await this.follow(name, created.wallet, opts.mnemonic !== undefined);
    return created;
  }

  async load(name: string): Promise<Wallet> {
    if (this.loaded.has(name)) throw new WalletAlreadyLoadedError(name);
    const path = this.pathOf(name);
    if (!existsSync(path)) throw new WalletNotFoundError(`Wallet file ${path} not found.`);
    const w = Wallet.load(this.walletOptions(name));
    await this.follow(name, w, false);
    await this.opts.resubmit?.(w.pendingTransactions());
    return w;
  }

  /**
   * restorewallet: a copy of a backup file (backupwallet's) becomes wallet `name` and is loaded.
   * The name must be free (WalletExistsError, Core's -36); a file that is not a wallet of this
   * network is refused and nothing is left behind.
   */
  async restore(name: string, backup: string): Promise<Wallet> {
    const path = this.pathOf(name);
    if (!existsSync(backup)) throw new WalletBackupError('Backup file does not exist');
    if (existsSync(path) || this.loaded.has(name))
      throw new WalletExistsError(name, `Failed to create database path '${path}'. Database already exists.`);
    const file = readWalletFile(backup);
    if (file.network !== this.opts.network)
      throw new WalletError(`Wallet file verification failed: ${backup} belongs to network ${file.network}`);
    writeFileAtomic(path, readFileSync(backup));
    try {
      return await this.load(name);
    } catch (e) {
      if (!this.loaded.has(name)) rmSync(path, { force: true });
      throw e;
    }
  }

  /**
   * The wallets to load at startup: the settings' "wallet" list when it has one (Core), else
   * every wallet file in the directory (Tally's behaviour before load_on_startup). A settings file
   * that cannot be read loads every wallet and says why in `problem`.
   */
  startupWallets(): { names: string[]; problem?: string } {
    const file = this.opts.settingsFile;
    if (file === undefined) return { names: this.available() };
    try {
      return { names: walletSetting(readSettings(file)) ?? this.available() };
    } catch (e) {
      return { names: this.available(), problem: `settings file ignored: ${(e as Error).message}` };
    }
  }

  /**
   * load_on_startup: true adds the wallet to the settings' "wallet" list, false removes it
   * (Core's AddWalletSetting, RemoveWalletSetting); other settings are kept. Core's warning when
   * the file cannot be read or written, else undefined.
   */
  setLoadOnStartup(name: string, load: boolean): string | undefined {
    const file = this.opts.settingsFile;
    if (file === undefined) return STARTUP_SETTING_WARNING;
    try {
      const settings = readSettings(file);
      const list = walletSetting(settings) ?? [];
      const next = load ? (list.includes(name) ? list : [...list, name]) : list.filter((n) => n !== name);
      writeFileAtomic(file, JSON.stringify({ ...settings, wallet: next }, null, 4) + '\n');
      return undefined;
    } catch {
      return STARTUP_SETTING_WARNING;
    }
  }

  /** Resubmits and rebroadcasts every loaded wallet's unconfirmed transactions. */
  async resubmitAll(): Promise<void> {
    for (const w of [...this.loaded.values()]) await this.opts.resubmit?.(w.pendingTransactions());
  }

  private async follow(name: string, w: Wallet, restored: boolean): Promise<void> {
    const f = this.opts.follower;
    if (f) {
      await f.sync(w, { restored });
      while (!f.isSynced(w)) await f.sync(w, { restored: false });
    }
    if (this.loaded.has(name)) throw new WalletAlreadyLoadedError(name);
    // No await from here on: no pool transaction can slip between this read and the hand-over.
    for (const tx of parentsFirst(f?.pendingTxs?.() ?? [])) w.onTxAccepted(tx);
    this.loaded.set(name, w);
  }

  unload(name: string): void {
    const w = this.loaded.get(name);
    if (w === undefined) throw new WalletNotFoundError(`Requested wallet "${name}" is not loaded`);
    w.lock();
    w.save();
    this.loaded.delete(name);
  }

  /** The named wallet, or the only loaded one when no name is given. */
  get(name?: string): Wallet {
    if (name !== undefined) {
      const w = this.loaded.get(name);
      if (w === undefined)
        throw new WalletNotFoundError(`Requested wallet "${name}" does not exist or is not loaded`);
      return w;
    }
    if (this.loaded.size === 0)
      throw new WalletNotFoundError(
        'No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet.',
      );
    if (this.loaded.size > 1) throw new WalletNotSpecifiedError();
    return this.loaded.values().next().value!;
  }

  names(): string[] {
    return [...this.loaded.keys()].sort();
  }

  /** Wallet files in the directory, loaded or not. */
  available(): string[] {
    if (!existsSync(this.opts.dir)) return [];
    return readdirSync(this.opts.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .filter((n) => NAME.test(n))
      .sort();
  }

  onBlockConnected(block: Block, height: number): void {
    for (const w of this.loaded.values()) w.onBlockConnected(block, height);
  }

  onBlockDisconnected(block: Block, height: number): void {
    for (const w of this.loaded.values()) w.onBlockDisconnected(block, height);
  }

  onTxAccepted(tx: Tx): void {
    for (const w of this.loaded.values()) w.onTxAccepted(tx);
  }

  /** Locks and saves every wallet (node shutdown). */
  close(): void {
    for (const w of this.loaded.values()) {
      w.lock();
      w.save();
    }
    this.loaded.clear();
  }
}

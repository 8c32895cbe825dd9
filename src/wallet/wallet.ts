// One HD wallet. Owns: its keys (mnemonic encrypted at rest, unlocked for a limited time, wiped
// on lock), its addresses (receive and change branches with a lookahead gap), the transactions
// that touch it and the coins they make, balances, history and building payments. Does not own
// the chain or the mempool: it follows them through onBlockConnected / onBlockDisconnected /
// onTxAccepted and hands transactions back to whoever broadcasts them. Every spender of an
// outpoint is kept (Core's mapTxSpends): a transaction double-spent by a confirmed one is
// conflicted (negative confirmations, its coins and change count for nothing) and comes back if
// that block is disconnected; an abandoned one frees its inputs. Sends run one at a time
// (runExclusive: choose coins, sign, broadcast, record). Fails with typed errors
// (WalletLockedError, WrongPassphraseError, InsufficientFundsError, AddressError, WalletError).
import { HDKey } from '@scure/bip32';
import { Mutex } from 'async-mutex';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Block } from '../primitives/block.js';
import {
  AddressPrefixes,
  addressToScript,
  decodeAddress,
  encodeAddress,
  scriptToAddress,
} from '../primitives/address.js';
import { OutPoint, Tx, TxOut } from '../primitives/tx.js';
import { classifyScript, p2pkhScript } from '../script/standard.js';
import { hash160 } from '../crypto/hash.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { bytesToHex, compactSizeLength, equalBytes, hexToBytes, reverseHex } from '../primitives/bytes.js';
import {
  Branch,
  CHANGE,
  RECEIVE,
  accountKey,
  coinTypeFor,
  derivePublic,
  keyPath,
  mnemonicToSeed,
  newMnemonic,
  normalizeMnemonic,
} from './keys.js';
import {
  type ScryptParams,
  WrongPassphraseError,
  calibrateScrypt,
  decryptSecretWithKey,
  encryptSecret,
  encryptSecretWithKey,
} from './keystore.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { WalletError, WalletLockedError, WalletWriteError } from './errors.js';
import { ImportedKeys, multisigOf, p2shOf } from './imported.js';
import { TxRecord, WalletFile, readWalletFile } from './store.js';

export const DEFAULT_GAP = 20;
export const MAX_UNLOCK_SECONDS = 100_000_000;
/** How long what connected blocks brought may wait before the wallet file is rewritten. */
const BLOCK_SAVE_DELAY_MS = 1_000;

export { WalletError, WalletLockedError, WalletWriteError };

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
}

export interface Balances {
  trusted: bigint;
  untrustedPending: bigint;
  immature: bigint;
}

/** What the wallet knows of an output script (getaddressinfo). */
export interface ScriptInfo {
  origin: 'hd' | 'key' | 'watch' | 'p2sh';
  spendable: boolean;
  solvable: boolean;
  change: boolean;
  /** The HD path, for keys of the HD chain. */
  path?: string;
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

interface KeyRef {
  branch: Branch;
  /** The HD index; -1 for imports. */
  index: number;
  origin: ScriptInfo['origin'];
  publicKey?: Uint8Array;
  redeemScript?: Uint8Array;
  time?: number;
}

interface TxState {
  tx: Tx;
  rec: TxRecord;
}

export class Wallet {
  private readonly now: () => number;
  private readonly branches: Record<Branch, HDKey>;
  /** Output script hex -> key, for every derived key (used ones and the lookahead). */
  private readonly scripts = new Map<string, KeyRef>();
  private readonly derived: Record<Branch, number> = { [RECEIVE]: 0, [CHANGE]: 0 };
  private txs = new Map<string, TxState>();
  /** Outpoint key -> txids (display hex) of every wallet transaction that spends it. */
  private spentBy = new Map<string, Set<string>>();
  /** Sends one at a time: coin choice, signing, broadcast and recording are one step. */
  private readonly sendLock = new Mutex();
  private privateBranches: Record<Branch, HDKey> | null = null;
  /** The BIP32 master key of the mnemonic's seed while unlocked (dumpwallet prints it). */
  private masterKey: HDKey | null = null;
  private lockTimer: NodeJS.Timeout | null = null;
  private unlockedUntilMs = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  /** The last write of the file failed: what it holds is older than this wallet. */
  private unsaved = false;
  /** lockunspent: outpoints ("txid:vout") no send may choose; persistent ones are also in the file. */
  private readonly lockedCoins = new Set<string>();
  /** settxfee: base units per 1,000 bytes, 0 = not set (Core's m_pay_tx_fee, kept in memory). */
  payTxFee = 0n;
  /** Imported keys and watched scripts, beside the HD chain. */
  private readonly imported: ImportedKeys;

  private constructor(
    private readonly file: WalletFile,
    private readonly opts: WalletOptions,
  ) {
    this.now = opts.now ?? Date.now;
    if (file.network !== opts.network)
      throw new WalletError(`wallet ${opts.path} belongs to network ${file.network}, not ${opts.network}`);
    this.branches = {
      [RECEIVE]: HDKey.fromExtendedKey(file.receive.xpub),
      [CHANGE]: HDKey.fromExtendedKey(file.change.xpub),
    };
    this.imported = new ImportedKeys(file, () => this.isEncrypted);
    this.extendLookahead(RECEIVE);
    this.extendLookahead(CHANGE);
    this.indexImported();
    for (const [txid, rec] of Object.entries(file.txs)) this.index(txid, Tx.decode(hexToBytes(rec.hex)), rec);
    if ('mnemonic' in file.secret) this.setPrivate(mnemonicToSeed(file.secret.mnemonic));
    for (const o of file.locked ?? []) this.lockedCoins.add(o);
  }

  static async create(opts: CreateOptions): Promise<{ wallet: Wallet; mnemonic: string }> {
    const mnemonic = opts.mnemonic !== undefined ? normalizeMnemonic(opts.mnemonic) : newMnemonic();
    const coinType = coinTypeFor(opts.network);
    const seed = mnemonicToSeed(mnemonic);
    const account = accountKey(seed, coinType);
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
      version: 2,
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
      flags: {},
    };
    account.wipePrivateData();
    const wallet = new Wallet(file, opts);
    wallet.save();
    return { wallet, mnemonic };
  }

  static load(opts: WalletOptions): Wallet {
    return new Wallet(readWalletFile(opts.path), opts);
  }

  get path(): string {
    return this.opts.path;
  }

  get isEncrypted(): boolean {
    return 'encrypted' in this.file.secret;
  }

  get isLocked(): boolean {
    return this.privateBranches === null;
  }

  /** Seconds since the epoch until which the wallet stays unlocked; 0 when locked or unencrypted. */
  get unlockedUntil(): number {
    return this.isEncrypted && !this.isLocked ? Math.floor(this.unlockedUntilMs / 1000) : 0;
  }

  get tip(): { height: number; hash: string } | null {
    return this.file.tip;
  }

  save(): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    try {
      writeFileAtomic(this.opts.path, JSON.stringify(this.file, null, 1));
      this.unsaved = false;
    } catch (e) {
      this.unsaved = true;
      const told = this.opts.onWriteFailed?.(e, this.opts.path);
      throw told ? new WalletWriteError(told.message) : e;
    }
  }

  backup(destination: string): void {
    this.save();
    try {
      copyFileSync(this.opts.path, destination);
    } catch (e) {
      // Core's "Wallet backup failed!" (-4), with the reason the operator needs.
      throw new WalletError(`Error: Wallet backup failed! ${(e as Error).message}`);
    }
  }

  // --- keys -------------------------------------------------------------------------------

  private setPrivate(seed: Uint8Array): void {
    const account = accountKey(seed, this.file.coinType);
    this.masterKey = HDKey.fromMasterSeed(seed);
    seed.fill(0);
    this.privateBranches = { [RECEIVE]: account.deriveChild(RECEIVE), [CHANGE]: account.deriveChild(CHANGE) };
    account.wipePrivateData();
  }

  async unlock(passphrase: string, timeoutSeconds: number): Promise<void> {
    if (!('encrypted' in this.file.secret))
      throw new WalletError('Error: running with an unencrypted wallet, but walletpassphrase was called.');
    if (!(timeoutSeconds > 0)) throw new WalletError('Timeout cannot be negative or zero.');
    const timeout = Math.min(timeoutSeconds, MAX_UNLOCK_SECONDS);
    const { plain, key } = await decryptSecretWithKey(this.file.secret.encrypted, passphrase);
    const mnemonic = new TextDecoder().decode(plain);
    plain.fill(0);
    this.lock();
    try {
      this.imported.unlock(key);
    } finally {
      key.fill(0);
    }
    this.setPrivate(mnemonicToSeed(mnemonic));
    this.unlockedUntilMs = this.now() + timeout * 1000;
    this.lockTimer = setTimeout(() => this.lock(), timeout * 1000);
    this.lockTimer.unref();
  }

  /** Forgets the private keys (zeroed). An unencrypted wallet has nothing to lock. */
  lock(): void {
    if (!this.isEncrypted) return;
    if (this.lockTimer !== null) clearTimeout(this.lockTimer);
    this.lockTimer = null;
    if (this.privateBranches !== null) {
      this.privateBranches[RECEIVE].wipePrivateData();
      this.privateBranches[CHANGE].wipePrivateData();
    }
    this.privateBranches = null;
    this.masterKey?.wipePrivateData();
    this.masterKey = null;
    this.unlockedUntilMs = 0;
    this.imported.lock();
  }

  /** The account's private branch keys, for tests of wiping; null when locked. */
  privateKeysForTest(): HDKey[] | null {
    return this.privateBranches ? [this.privateBranches[RECEIVE], this.privateBranches[CHANGE]] : null;
  }

  async changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void> {
    if (!('encrypted' in this.file.secret))
      throw new WalletError('Error: running with an unencrypted wallet.');
    if (newPassphrase === '') throw new WalletError('passphrase cannot be empty');
    const old = await decryptSecretWithKey(this.file.secret.encrypted, oldPassphrase);
    const { N, r, p } = this.file.secret.encrypted;
    const fresh = await encryptSecretWithKey(old.plain, newPassphrase, { N, r, p });
    old.plain.fill(0);
    try {
      this.imported.reseal(old.key, fresh.key);
    } finally {
      old.key.fill(0);
      fresh.key.fill(0);
    }
    this.file.secret = { encrypted: fresh.enc };
    this.save();
  }

  /** Encrypts an unencrypted wallet (encryptwallet); the wallet is locked afterwards. */
  async encrypt(passphrase: string, scrypt?: ScryptParams): Promise<void> {
    if (!('mnemonic' in this.file.secret)) throw new WalletError('Error: wallet is already encrypted.');
    if (passphrase === '') throw new WalletError('passphrase cannot be empty');
    const { enc, key } = await encryptSecretWithKey(
      new TextEncoder().encode(this.file.secret.mnemonic),
      passphrase,
      scrypt ?? (await calibrateScrypt()),
    );
    try {
      this.imported.reseal(null, key);
    } finally {
      key.fill(0);
    }
    this.file.secret = { encrypted: enc };
    this.save();
    this.imported.lock();
    this.privateBranches?.[RECEIVE].wipePrivateData();
    this.privateBranches?.[CHANGE].wipePrivateData();
    this.privateBranches = null;
    this.masterKey?.wipePrivateData();
    this.masterKey = null;
  }

  private branchState(b: Branch): WalletFile['receive'] {
    return b === RECEIVE ? this.file.receive : this.file.change;
  }

  private extendLookahead(b: Branch): void {
    const st = this.branchState(b);
    const want = Math.max(st.next, st.used) + this.file.gap;
    for (let i = this.derived[b]; i < want; i++) {
      const k = derivePublic(this.branches[b], b, i);
      const script = p2pkhScript(k.pubkeyHash);
      this.scripts.set(bytesToHex(script), { branch: b, index: i, origin: 'hd', publicKey: k.publicKey });
    }
    this.derived[b] = Math.max(this.derived[b], want);
  }

  private takeAddress(b: Branch): string {
    const st = this.branchState(b);
    const index = st.next++;
    this.extendLookahead(b);
    this.save();
    const k = derivePublic(this.branches[b], b, index);
    return encodeAddress('pubkeyhash', k.pubkeyHash, this.opts.prefixes);
  }

  getNewAddress(label?: string): string {
    const address = this.takeAddress(RECEIVE);
    if (label !== undefined && label !== '') {
      this.file.labels[address] = label;
      this.save();
    }
    return address;
  }

  getChangeAddress(): string {
    return this.takeAddress(CHANGE);
  }

  isMine(script: Uint8Array): boolean {
    return this.scripts.has(bytesToHex(script));
  }

  /** HD address details; null when the address is not one of the HD chain's. */
  addressInfo(address: string): { path: string; change: boolean; publicKey: string; label?: string } | null {
    const ref = this.scripts.get(bytesToHex(addressToScript(address, this.opts.prefixes)));
    if (ref === undefined || ref.origin !== 'hd') return null;
    return {
      path: keyPath(this.file.coinType, ref.branch, ref.index),
      change: ref.branch === CHANGE,
      publicKey: bytesToHex(ref.publicKey!),
      label: this.file.labels[address],
    };
  }

  /** What the wallet knows of an output script (HD, imported or watched); null when nothing. */
  scriptInfo(script: Uint8Array): ScriptInfo | null {
    const ref = this.scripts.get(bytesToHex(script));
    if (ref === undefined) return null;
    const hd = ref.origin === 'hd';
    return {
      origin: ref.origin,
      spendable: this.canSign(ref),
      solvable: this.isSolvable(ref, script),
      change: hd && ref.branch === CHANGE,
      path: hd ? keyPath(this.file.coinType, ref.branch, ref.index) : undefined,
      publicKey: ref.publicKey,
      redeemScript: ref.redeemScript,
      time: ref.time,
    };
  }

  // --- imported keys and watched scripts ---------------------------------------------------

  /** Follows every imported script; a script of the HD chain stays the HD chain's. */
  private indexImported(): void {
    for (const [hex, r] of this.imported.refs()) {
      if (this.scripts.get(hex)?.origin === 'hd') continue;
      this.scripts.set(hex, { branch: RECEIVE, index: -1, ...r });
    }
  }

  /** Whether the wallet can sign for the script (Core's ISMINE_SPENDABLE); watch-only otherwise. */
  private canSign(ref: KeyRef): boolean {
    if (ref.origin === 'hd' || ref.origin === 'key') return true;
    const ms = ref.redeemScript === undefined ? null : multisigOf(ref.redeemScript);
    return ms !== null && ms.pubkeys.filter((k) => this.holdsKey(k)).length >= ms.m;
  }

  private isSolvable(ref: KeyRef, script: Uint8Array): boolean {
    if (ref.publicKey !== undefined) return true;
    if (ref.redeemScript !== undefined) return multisigOf(ref.redeemScript) !== null;
    const type = classifyScript(script).type;
    return type === 'multisig' || type === 'pubkey';
  }

  /** Serialized size of an input spending the script, at most (signatures of 72 bytes + hash type). */
  private inputSizeOf(ref: KeyRef): number {
    const ms = ref.redeemScript === undefined ? null : multisigOf(ref.redeemScript);
    if (ms !== null) {
      const redeem = ref.redeemScript!.length;
      const scriptSig = 1 + ms.m * 74 + (redeem < 76 ? 1 : redeem < 256 ? 2 : 3) + redeem;
      return 32 + 4 + compactSizeLength(scriptSig) + scriptSig + 4;
    }
    // P2PKH: 149 bytes with a compressed key, 32 more with an uncompressed one.
    return 116 + (ref.publicKey?.length ?? 33);
  }

  /** Whether the wallet holds the private key of a public key (HD or imported). */
  holdsKey(pubkey: Uint8Array): boolean {
    const ref = this.scripts.get(bytesToHex(p2pkhScript(hash160(pubkey))));
    if (ref?.origin === 'hd') return equalBytes(ref.publicKey!, pubkey);
    return this.imported.hasPrivate(pubkey);
  }

  /** Runs `fn` with the private key of `pubkey` (HD or imported); undefined when none is held. */
  withKeyOfPubkey<T>(pubkey: Uint8Array, fn: (sk: Uint8Array, pk: Uint8Array) => T): T | undefined {
    const ref = this.scripts.get(bytesToHex(p2pkhScript(hash160(pubkey))));
    if (ref?.origin === 'hd' && equalBytes(ref.publicKey!, pubkey))
      return this.withPrivateKey(ref.branch, ref.index, fn);
    return this.imported.withKey(pubkey, fn);
  }

  private p2pkhAddress(publicKey: Uint8Array): string {
    return encodeAddress('pubkeyhash', hash160(publicKey), this.opts.prefixes);
  }

  private afterImport(address: string | null, label: string | undefined): void {
    this.indexImported();
    if (address !== null && label !== undefined) {
      if (label === '') delete this.file.labels[address];
      else this.file.labels[address] = label;
    }
    this.save();
  }

  /**
   * importprivkey: a private key beside the HD chain (a key of the chain is left as it is).
   * Needs the wallet unlocked when it is encrypted. Returns the P2PKH address and whether it is new.
   */
  importPrivateKey(
    sk: Uint8Array,
    compressed: boolean,
    label?: string,
    time?: number,
  ): { address: string; added: boolean } {
    this.requireUnlocked();
    const pub = publicKeyFromPrivate(sk, compressed);
    const address = this.p2pkhAddress(pub);
    const hd = this.scripts.get(bytesToHex(p2pkhScript(hash160(pub))))?.origin === 'hd';
    const added =
      !hd && this.imported.addPrivate(sk, compressed, time ?? Math.floor(this.now() / 1000)).added;
    this.afterImport(address, label);
    return { address, added };
  }

  /** importpubkey: watches the P2PKH output of a public key. */
  importPublicKey(publicKey: Uint8Array, label?: string, time?: number): { address: string; added: boolean } {
    const address = this.p2pkhAddress(publicKey);
    const known = this.scripts.get(bytesToHex(p2pkhScript(hash160(publicKey))))?.publicKey !== undefined;
    const added = !known && this.imported.addPublic(publicKey, time ?? Math.floor(this.now() / 1000));
    this.afterImport(address, label);
    return { address, added };
  }

  /**
   * importaddress / importmulti / addmultisigaddress: watches an output script; with a redeem
   * script, its P2SH output too. Returns the watched P2SH address (or the script's own).
   */
  importScript(
    script: Uint8Array | null,
    redeemScript: Uint8Array | undefined,
    label?: string,
    time?: number,
  ): { address: string | null; added: boolean } {
    const t = time ?? Math.floor(this.now() / 1000);
    let added = false;
    if (script !== null && !this.scripts.has(bytesToHex(script)))
      added = this.imported.addScript(script, undefined, t);
    let address = script === null ? null : scriptToAddress(script, this.opts.prefixes);
    if (redeemScript !== undefined) {
      const p2sh = p2shOf(redeemScript);
      added = this.imported.addScript(p2sh, redeemScript, t) || added;
      address = scriptToAddress(p2sh, this.opts.prefixes);
    }
    this.afterImport(address, label);
    return { address, added };
  }

  /**
   * Every private key the wallet holds, for dumpwallet: the HD chain's (every derived one, with
   * its path, branch and whether it is still in the key pool), then the imported ones. Needs the
   * wallet unlocked; `fn` sees each key only for the length of its call.
   */
  forEachPrivateKey(
    fn: (
      sk: Uint8Array,
      pk: Uint8Array,
      meta: { path?: string; change: boolean; reserve: boolean; time: number },
    ) => void,
  ): void {
    this.requireUnlocked();
    for (const b of [RECEIVE, CHANGE] as const)
      for (let i = 0; i < this.derived[b]; i++)
        this.withPrivateKey(b, i, (sk, pk) =>
          fn(sk, pk, {
            path: keyPath(this.file.coinType, b, i),
            change: b === CHANGE,
            reserve: i >= this.branchState(b).next,
            time: 0,
          }),
        );
    for (const k of this.imported.keys) {
      if (k.secret === undefined) continue;
      const pub = hexToBytes(k.pubkey);
      this.imported.withKey(pub, (sk, pk) => fn(sk, pk, { change: false, reserve: false, time: k.time }));
    }
  }

  /** The extended private master key of the HD chain (BIP32 root of the mnemonic's seed). */
  masterPrivateKey(): string {
    this.requireUnlocked();
    return this.masterKey!.privateExtendedKey;
  }

  /** Whether any script the wallet follows is watch-only (Core's HaveWatchOnly). */
  get hasWatchOnly(): boolean {
    for (const ref of this.scripts.values()) if (ref.origin !== 'hd' && !this.canSign(ref)) return true;
    return false;
  }

  /** The imported keys and scripts (dumpwallet). */
  get importedKeys(): ImportedKeys {
    return this.imported;
  }

  // --- following the chain ----------------------------------------------------------------

  private markUsed(ref: KeyRef): void {
    const st = this.branchState(ref.branch);
    if (ref.index + 1 > st.used) {
      st.used = ref.index + 1;
      if (st.next < st.used) st.next = st.used;
      this.extendLookahead(ref.branch);
    }
  }

  /** Adds a transaction to the in-memory indexes. */
  private index(txid: string, tx: Tx, rec: TxRecord): void {
    this.txs.set(txid, { tx, rec });
    if (tx.isCoinbase()) return;
    for (const i of tx.inputs) {
      const key = i.prevout.key();
      const set = this.spentBy.get(key);
      if (set === undefined) this.spentBy.set(key, new Set([txid]));
      else set.add(txid);
    }
  }

  private unindex(txid: string): void {
    const st = this.txs.get(txid);
    if (st === undefined) return;
    this.txs.delete(txid);
    delete this.file.txs[txid];
    if (st.tx.isCoinbase()) return;
    for (const i of st.tx.inputs) {
      const set = this.spentBy.get(i.prevout.key());
      set?.delete(txid);
      if (set?.size === 0) this.spentBy.delete(i.prevout.key());
    }
  }

  /** Wallet transactions spending an output of `tx`. */
  private childrenOf(tx: Tx): string[] {
    const hash = tx.txid();
    return tx.outputs.flatMap((_, vout) => [...(this.spentBy.get(new OutPoint(hash, vout).key()) ?? [])]);
  }

  /** Removes a transaction and every wallet transaction that spends its outputs. */
  private removeWithDescendants(txid: string): void {
    const st = this.txs.get(txid);
    if (st === undefined) return;
    const children = this.childrenOf(st.tx);
    this.unindex(txid);
    for (const child of children) this.removeWithDescendants(child);
  }

  /** Whether the transaction pays us or spends one of our coins; marks keys it uses. */
  private relevant(tx: Tx): boolean {
    let mine = false;
    for (const o of tx.outputs) {
      const ref = this.scripts.get(bytesToHex(o.scriptPubKey));
      if (ref !== undefined) {
        mine = true;
        this.markUsed(ref);
      }
    }
    if (mine || tx.isCoinbase()) return mine;
    return tx.inputs.some((i) => this.ownedOutput(i.prevout) !== null);
  }

  private ownedOutput(op: OutPoint): { out: TxOut; ref: KeyRef; st: TxState } | null {
    const st = this.txs.get(op.txidHex());
    const out = st?.tx.outputs[op.index];
    if (st === undefined || out === undefined) return null;
    const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
    return ref === undefined ? null : { out, ref, st };
  }

  private record(tx: Tx, height: number | null, blockHash: string | null, blockTime: number | null): void {
    const txid = tx.txidHex();
    const existing = this.txs.get(txid);
    if (existing !== undefined) {
      const changed = existing.rec.blockHash !== blockHash;
      // Seen in a block or the pool again: no longer abandoned (as Core).
      delete existing.rec.abandoned;
      existing.rec.height = height;
      existing.rec.blockHash = blockHash;
      existing.rec.blockTime = blockTime;
      if (changed) this.opts.onTxChanged?.(txid, blockHash, height);
      return;
    }
    const rec: TxRecord = {
      hex: bytesToHex(tx.encode()),
      height,
      blockHash,
      blockTime,
      time: blockTime ?? Math.floor(this.now() / 1000),
    };
    this.file.txs[txid] = rec;
    this.index(txid, tx, rec);
    this.opts.onTxChanged?.(txid, blockHash, height);
  }

  onBlockConnected(block: Block, height: number): void {
    const hash = block.hashHex();
    for (const tx of block.txs)
      if (this.txs.has(tx.txidHex()) || this.relevant(tx)) this.record(tx, height, hash, block.header.time);
    this.file.tip = { height, hash };
    // What a block brings can be replayed from the chain (the node rescans from the saved tip at
    // load), so blocks are written in batches: rewriting the whole file for every block would make
    // a wallet paid by each block slower as it grows. What only the wallet knows (new addresses,
    // its own unconfirmed transactions) is still written at once.
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.saveTimer !== null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      // A wallet whose folder was removed (a test's temporary directory) has nothing to keep.
      try {
        if (existsSync(dirname(this.opts.path))) this.save();
      } catch (e) {
        // Told to the node already (it is stopping); nobody else waits on a batched write.
        if (!(e instanceof WalletWriteError)) throw e;
      }
    }, BLOCK_SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  onBlockDisconnected(block: Block, height: number): void {
    for (const tx of [...block.txs].reverse()) {
      const txid = tx.txidHex();
      const st = this.txs.get(txid);
      if (st === undefined) continue;
      // A coinbase can never return to the mempool; other transactions become unconfirmed.
      if (tx.isCoinbase()) this.removeWithDescendants(txid);
      else {
        st.rec.height = null;
        st.rec.blockHash = null;
        st.rec.blockTime = null;
      }
    }
    this.file.tip = { height: height - 1, hash: reverseHex(block.header.prevHash) };
    this.save();
  }

  /**
   * Forgets every block above `height` (a reorg that happened while the wallet was not loaded):
   * their transactions become unconfirmed and their coinbases, which can never return, go. The
   * caller then replays the active chain from height + 1.
   */
  rewind(height: number, hash: string): void {
    const above = [...this.txs.entries()].filter(
      ([, st]) => st.rec.height !== null && st.rec.height > height,
    );
    for (const [txid, st] of above) {
      if (st.tx.isCoinbase()) this.removeWithDescendants(txid);
      else {
        st.rec.height = null;
        st.rec.blockHash = null;
        st.rec.blockTime = null;
      }
    }
    this.file.tip = { height, hash };
    this.save();
  }

  onTxAccepted(tx: Tx): void {
    if (this.txs.has(tx.txidHex()) || !this.relevant(tx)) return;
    this.record(tx, null, null, null);
    this.save();
  }

  /** Replays blocks (from the wallet's birth or a chosen height); returns how many were read. */
  async rescan(
    blocks: Iterable<{ block: Block; height: number }> | AsyncIterable<{ block: Block; height: number }>,
  ): Promise<number> {
    let n = 0;
    for await (const { block, height } of blocks) {
      const hash = block.hashHex();
      for (const tx of block.txs)
        if (this.txs.has(tx.txidHex()) || this.relevant(tx)) this.record(tx, height, hash, block.header.time);
      this.file.tip = { height, hash };
      n++;
    }
    this.save();
    return n;
  }

  // --- balances and history -------------------------------------------------------------

  private depth(rec: TxRecord): number {
    if (rec.height === null || this.file.tip === null) return 0;
    return Math.max(0, this.file.tip.height - rec.height + 1);
  }

  /**
   * Core's GetDepthInMainChain: confirmations when in a block; 0 when unconfirmed; minus the
   * confirmations of the deepest confirmed transaction that double-spends it or one of its wallet
   * ancestors (conflicted: it can never confirm while that block stays).
   */
  private txDepth(txid: string, seen = new Set<string>()): number {
    const st = this.txs.get(txid);
    if (st === undefined) return 0;
    const own = this.depth(st.rec);
    if (own > 0 || st.tx.isCoinbase() || seen.has(txid)) return own;
    seen.add(txid);
    let worst = 0;
    for (const i of st.tx.inputs) {
      for (const other of this.spentBy.get(i.prevout.key()) ?? []) {
        if (other === txid) continue;
        const d = this.depth((this.txs.get(other) as TxState).rec);
        if (d > 0) worst = Math.min(worst, -d);
      }
      if (this.txs.has(i.prevout.txidHex())) worst = Math.min(worst, this.txDepth(i.prevout.txidHex(), seen));
    }
    return worst;
  }

  /** Abandoned, or an ancestor in the wallet is: nothing it spends or makes counts. */
  private isAbandoned(txid: string, seen = new Set<string>()): boolean {
    const st = this.txs.get(txid);
    if (st === undefined || seen.has(txid) || this.depth(st.rec) > 0) return false;
    if (st.rec.abandoned === true) return true;
    seen.add(txid);
    return st.tx.inputs.some((i) => this.isAbandoned(i.prevout.txidHex(), seen));
  }

  /** Neither conflicted nor abandoned: it may still confirm, so what it spends is spent. */
  private isActive(txid: string): boolean {
    return this.txDepth(txid) >= 0 && !this.isAbandoned(txid);
  }

  private isSpent(outpoint: OutPoint): boolean {
    for (const s of this.spentBy.get(outpoint.key()) ?? []) if (this.isActive(s)) return true;
    return false;
  }

  /** Other wallet transactions spending an input of `txid` (gettransaction's walletconflicts). */
  conflictsOf(txid: string): string[] {
    const st = this.txs.get(txid);
    if (st === undefined || st.tx.isCoinbase()) return [];
    const out = new Set<string>();
    for (const i of st.tx.inputs)
      for (const o of this.spentBy.get(i.prevout.key()) ?? []) if (o !== txid) out.add(o);
    return [...out];
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

  /** Runs a send (coin choice, signing, broadcast, recording) with no other send of this wallet in between. */
  runExclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.sendLock.runExclusive(fn);
  }

  /** gettransaction's trusted: confirmed, or ours, active and (when known) in the pool. */
  isTrusted(txid: string): boolean {
    const st = this.txs.get(txid);
    if (st === undefined) return false;
    if (this.depth(st.rec) > 0) return true;
    return this.isActive(txid) && this.fromMe(st.tx) && (this.opts.inMempool?.(txid) ?? true);
  }

  /** All inputs spend our own coins: its unconfirmed outputs (our change) can be trusted. */
  private fromMe(tx: Tx): boolean {
    return !tx.isCoinbase() && tx.inputs.every((i) => this.ownedOutput(i.prevout) !== null);
  }

  /** Unspent coins (not spent by any wallet transaction, confirmed or not). */
  listCoins(): Coin[] {
    const coins: Coin[] = [];
    for (const [txid, { tx, rec }] of this.txs) {
      const depth = this.depth(rec);
      const coinbase = tx.isCoinbase();
      // As Core: a coinbase output is immature until COINBASE_MATURITY + 1 confirmations.
      const immature = coinbase && depth <= this.opts.coinbaseMaturity;
      if (coinbase && depth === 0) continue;
      if (depth === 0 && !this.isActive(txid)) continue;
      const pooled = this.opts.inMempool?.(txid) ?? true;
      // An unconfirmed transaction the pool does not hold (yet) counts nowhere until it is back.
      if (depth === 0 && !pooled) continue;
      const trusted = !immature && (depth > 0 || this.fromMe(tx));
      tx.outputs.forEach((out, vout) => {
        const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
        if (ref === undefined) return;
        const outpoint = new OutPoint(tx.txid(), vout);
        if (this.isSpent(outpoint)) return;
        coins.push(this.coinJson(outpoint, out, ref, depth, coinbase, trusted, immature));
      });
    }
    return coins;
  }

  private coinJson(
    outpoint: OutPoint,
    out: TxOut,
    ref: KeyRef,
    confirmations: number,
    coinbase: boolean,
    trusted: boolean,
    immature: boolean,
  ): Coin {
    return {
      outpoint,
      txid: outpoint.txidHex(),
      vout: outpoint.index,
      value: out.value,
      script: out.scriptPubKey,
      address: scriptToAddress(out.scriptPubKey, this.opts.prefixes) ?? bytesToHex(out.scriptPubKey),
      branch: ref.branch,
      index: ref.index,
      spendable: this.canSign(ref),
      solvable: this.isSolvable(ref, out.scriptPubKey),
      inputSize: this.inputSizeOf(ref),
      confirmations,
      coinbase,
      trusted,
      immature,
    };
  }

  /** The balances of the coins the wallet can sign for, or (watchOnly) of the watch-only ones. */
  getBalances(watchOnly = false): Balances {
    const b: Balances = { trusted: 0n, untrustedPending: 0n, immature: 0n };
    for (const c of this.listCoins()) {
      if (c.spendable === watchOnly) continue;
      if (c.immature) b.immature += c.value;
      else if (c.trusted) b.trusted += c.value;
      else b.untrustedPending += c.value;
    }
    return b;
  }

  /** History entries, oldest first, as Core's listtransactions (the last `count` after `skip`). */
  listTransactions(count = 10, skip = 0): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    const ordered = [...this.txs.entries()].sort(
      (a, b) =>
        a[1].rec.time - b[1].rec.time || (a[1].rec.height ?? Infinity) - (b[1].rec.height ?? Infinity),
    );
    for (const [txid, { tx, rec }] of ordered) {
      const depth = this.txDepth(txid);
      const base = {
        txid,
        confirmations: depth,
        blockHash: rec.blockHash,
        blockHeight: rec.height,
        blockTime: rec.blockTime,
        time: rec.time,
      };
      let debit = 0n;
      let fromMe = false;
      let watchedInput = false;
      if (!tx.isCoinbase())
        for (const i of tx.inputs) {
          const o = this.ownedOutput(i.prevout);
          if (o !== null) {
            debit += o.out.value;
            fromMe = true;
            if (!this.canSign(o.ref)) watchedInput = true;
          }
        }
      const totalOut = tx.outputs.reduce((s, o) => s + o.value, 0n);
      const fee = fromMe && this.fromMe(tx) ? debit - totalOut : 0n;
      tx.outputs.forEach((out, vout) => {
        const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
        const address = scriptToAddress(out.scriptPubKey, this.opts.prefixes);
        const watched = watchedInput || (ref !== undefined && !this.canSign(ref));
        const w = watched ? { watchOnly: true } : {};
        if (fromMe && (ref === undefined || ref.branch === RECEIVE))
          entries.push({ ...base, category: 'send', address, amount: -out.value, fee: -fee, vout, ...w });
        if (ref !== undefined && ref.branch === RECEIVE) {
          let category: HistoryEntry['category'] = 'receive';
          if (tx.isCoinbase())
            category = depth === 0 ? 'orphan' : depth <= this.opts.coinbaseMaturity ? 'immature' : 'generate';
          const label = address !== null ? this.file.labels[address] : undefined;
          entries.push({
            ...base,
            category,
            address,
            amount: out.value,
            vout,
            ...(label !== undefined ? { label } : {}),
            ...w,
          });
        }
      });
    }
    const end = Math.max(0, entries.length - skip);
    return entries.slice(Math.max(0, end - count), end);
  }

  /** confirmations is negative for a conflicted transaction, as Core's. */
  getTransaction(txid: string): { tx: Tx; record: TxRecord; confirmations: number } | null {
    const st = this.txs.get(txid);
    return st === undefined ? null : { tx: st.tx, record: { ...st.rec }, confirmations: this.txDepth(txid) };
  }

  // --- paying ----------------------------------------------------------------------------

  get prefixes(): AddressPrefixes {
    return this.opts.prefixes;
  }

  /**
   * Coins a payment may spend: mature, confirmed or our own unconfirmed change, not locked, and
   * ones the wallet can sign for (or, includeWatching, watch-only ones it knows how to spend).
   */
  spendableCoins(includeWatching = false): Coin[] {
    return this.listCoins().filter(
      (c) =>
        c.trusted &&
        (c.spendable || (includeWatching && c.solvable)) &&
        !this.lockedCoins.has(`${c.txid}:${c.vout}`),
    );
  }

  // --- locked coins (lockunspent) ---------------------------------------------------------

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

  // --- reading for the wallet methods ----------------------------------------------------

  /** Every wallet transaction with its depth (negative when conflicted), in no order. */
  *transactions(): Iterable<{ txid: string; tx: Tx; record: TxRecord; confirmations: number }> {
    for (const [txid, { tx, rec }] of this.txs)
      yield { txid, tx, record: rec, confirmations: this.txDepth(txid) };
  }

  /** The HD key an output script pays, or undefined when it is not the wallet's. */
  keyOf(script: Uint8Array): { branch: Branch; index: number } | undefined {
    const ref = this.scripts.get(bytesToHex(script));
    return ref === undefined ? undefined : { branch: ref.branch, index: ref.index };
  }

  /** The addresses handed out on the receive branch, oldest first. */
  receiveAddresses(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.file.receive.next; i++)
      out.push(
        encodeAddress(
          'pubkeyhash',
          derivePublic(this.branches[RECEIVE], RECEIVE, i).pubkeyHash,
          this.opts.prefixes,
        ),
      );
    return out;
  }

  labelOf(address: string): string | undefined {
    return this.file.labels[address];
  }

  /** address -> label for every labelled address. */
  labels(): Record<string, string> {
    return { ...this.file.labels };
  }

  /** A coinbase with at most coinbaseMaturity confirmations (Core's IsTxImmatureCoinBase). */
  isImmature(tx: Tx, confirmations: number): boolean {
    return tx.isCoinbase() && confirmations <= this.opts.coinbaseMaturity;
  }

  /**
   * keypoolrefill: watches at least `size` addresses past the last used one on each branch.
   * newkeypool (`fresh`): every address handed out or pre-derived so far counts as used.
   */
  refillKeypool(size: number, fresh = false): void {
    if (size > this.file.gap) this.file.gap = size;
    if (fresh)
      for (const b of [RECEIVE, CHANGE] as const) {
        const st = this.branchState(b);
        st.next = Math.max(st.next, this.derived[b]);
      }
    this.extendLookahead(RECEIVE);
    this.extendLookahead(CHANGE);
    this.save();
  }

  /**
   * Records the wallet's transactions of one block of the active chain without moving the
   * wallet's tip (rescanblockchain over blocks it has already followed).
   */
  scanBlock(block: Block, height: number): void {
    const hash = block.hashHex();
    for (const tx of block.txs)
      if (this.txs.has(tx.txidHex()) || this.relevant(tx)) this.record(tx, height, hash, block.header.time);
    this.scheduleSave();
  }

  /** Throws WalletLockedError unless private keys are available. */
  requireUnlocked(): void {
    if (this.privateBranches === null) throw new WalletLockedError();
  }

  /** Runs `fn` with the key of (branch, index); the private key is zeroed afterwards. */
  withPrivateKey<T>(
    branch: Branch,
    index: number,
    fn: (privateKey: Uint8Array, publicKey: Uint8Array) => T,
  ): T {
    if (this.privateBranches === null) throw new WalletLockedError();
    const key = this.privateBranches[branch].deriveChild(index);
    try {
      return fn(key.privateKey!, key.publicKey!);
    } finally {
      key.wipePrivateData();
    }
  }

  /** The wallet's output at `op` as a coin, spent or not; null when it is not ours. */
  coinOf(op: OutPoint): Coin | null {
    const o = this.ownedOutput(op);
    if (o === null) return null;
    const depth = this.depth(o.st.rec);
    const coinbase = o.st.tx.isCoinbase();
    const immature = coinbase && depth <= this.opts.coinbaseMaturity;
    const trusted = !immature && (depth > 0 || this.fromMe(o.st.tx));
    return this.coinJson(op, o.out, o.ref, depth, coinbase, trusted, immature);
  }

  /** Whether an output script pays the change branch. */
  isChange(script: Uint8Array): boolean {
    return this.scripts.get(bytesToHex(script))?.branch === CHANGE;
  }

  /** Wallet transactions spending an output of `txid` (Core's HasWalletSpend). */
  spendersOf(txid: string): string[] {
    const st = this.txs.get(txid);
    return st === undefined ? [] : this.childrenOf(st.tx);
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
   * Records a transaction this wallet made (after the node accepted it). A send succeeds only once
   * the file holds it: a write that failed when the pool's event recorded it is tried again here,
   * so the caller hears of a full disk.
   */
  commitTransaction(tx: Tx): void {
    this.onTxAccepted(tx);
    if (this.unsaved) this.save();
  }

  setLabel(address: string, label: string): void {
    decodeAddress(address, this.opts.prefixes);
    if (label === '') delete this.file.labels[address];
    else this.file.labels[address] = label;
    this.save();
  }

  get keypoolSize(): number {
    return this.derived[RECEIVE] - this.file.receive.next;
  }

  get txCount(): number {
    return this.txs.size;
  }
}

export { WrongPassphraseError };

// A wallet's keys and its file: the HD chain (receive and change branches with a lookahead gap,
// unlocked for a limited time and wiped on lock), imported keys and watched scripts beside it,
// labels, and writing the file (at once, or batched after blocks). Base of WalletLedger and
// Wallet (wallet.ts). Fails with WalletLockedError, WrongPassphraseError and WalletError.
import type { KeyRef, ScriptInfo, WalletOptions } from './types.js';
import { HDKey } from '@scure/bip32';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  AddressPrefixes,
  addressToScript,
  decodeAddress,
  encodeAddress,
  scriptToAddress,
} from '../primitives/address.js';
import { classifyScript, p2pkhScript } from '../script/standard.js';
import { hash160 } from '../crypto/hash.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { bytesToHex, compactSizeLength, equalBytes, hexToBytes } from '../primitives/bytes.js';
import {
  Branch,
  CHANGE,
  HARDENED,
  RECEIVE,
  accountKey,
  derivePublic,
  hdMasterOf,
  keyPath,
  mnemonicToSeed,
} from './keys.js';
import { WALLET_FILE_VERSION } from './store.js';
import {
  type EncryptedSecret,
  type ScryptParams,
  calibrateScrypt,
  decryptSecretWithKey,
  encryptSecretWithKey,
} from './keystore.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { WalletError, WalletLockedError, WalletWriteError } from './errors.js';
import { ImportedKeys, multisigOf, p2shOf } from './imported.js';
import { WalletFile } from './store.js';

export const MAX_UNLOCK_SECONDS = 100_000_000;
/** How long what connected blocks brought may wait before the wallet file is rewritten. */
const BLOCK_SAVE_DELAY_MS = 1_000;
/** The wallet's own signature push at its largest: 1 + 70-byte DER (R ground low) + hash type. */
const OWN_SIG_PUSH = 72;

export abstract class WalletKeys {
  protected readonly now: () => number;
  private branches: Record<Branch, HDKey>;
  /** Output script hex -> key, for every derived key (used ones and the lookahead). */
  protected readonly scripts = new Map<string, KeyRef>();
  private readonly derived: Record<Branch, number> = { [RECEIVE]: 0, [CHANGE]: 0 };
  private privateBranches: Record<Branch, HDKey> | null = null;
  /** The BIP32 master key of the mnemonic's seed while unlocked (dumpwallet prints it). */
  private masterKey: HDKey | null = null;
  private lockTimer: NodeJS.Timeout | null = null;
  private unlockedUntilMs = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  /** The last write of the file failed: what it holds is older than this wallet. */
  protected unsaved = false;
  /** Imported keys and watched scripts, beside the HD chain. */
  private readonly imported: ImportedKeys;
  /** The file's version when read (or last upgraded): upgradewallet's previous_version. */
  private versionRead: number;

  protected constructor(
    protected readonly file: WalletFile,
    protected readonly opts: WalletOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.versionRead = file.version;
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
    if ('mnemonic' in file.secret) this.setPrivate(mnemonicToSeed(file.secret.mnemonic));
    if ('seed' in file.secret) this.setPrivate(hexToBytes(file.secret.seed));
  }

  // --- the file ------------------------------------------------------------------------------

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

  /** The version of the file as last read or written (getwalletinfo's walletversion). */
  get fileVersion(): number {
    return this.file.version;
  }

  /**
   * The version the file had when the wallet was read, or after upgradewallet. An older file is
   * written in the current version at its first change (loading usually is one), so this is
   * what upgradewallet reports as the version it came from.
   */
  get loadedVersion(): number {
    return this.versionRead;
  }

  /** upgradewallet: the file written in the current version. */
  upgradeFile(): void {
    this.save();
    this.versionRead = WALLET_FILE_VERSION;
  }

  save(): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    try {
      writeFileAtomic(
        this.opts.path,
        JSON.stringify({ ...this.file, version: WALLET_FILE_VERSION }, null, 1),
      );
      this.file.version = WALLET_FILE_VERSION;
      this.unsaved = false;
    } catch (e) {
      this.unsaved = true;
      const told = this.opts.onWriteFailed?.(e, this.opts.path);
      throw told ? new WalletWriteError(told.message) : e;
    }
  }

  protected scheduleSave(): void {
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

  backup(destination: string): void {
    this.save();
    try {
      copyFileSync(this.opts.path, destination);
    } catch (e) {
      // Core's "Wallet backup failed!" (-4), with the reason the operator needs.
      throw new WalletError(`Error: Wallet backup failed! ${(e as Error).message}`);
    }
  }

  // --- keys ----------------------------------------------------------------------------------

  private setPrivate(seed: Uint8Array): void {
    const account = accountKey(seed, this.file.coinType);
    this.masterKey = HDKey.fromMasterSeed(seed);
    const { seedId, fingerprint } = hdMasterOf(seed);
    const known = this.file.hdMaster;
    if (known?.seedId !== seedId || known.fingerprint !== fingerprint) {
      this.file.hdMaster = { seedId, fingerprint };
      // Only an encrypted wallet cannot read them again at load.
      if (this.isEncrypted) this.scheduleSave();
    }
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
    // The encrypted bytes are the BIP32 seed itself after sethdseed, else the mnemonic's text.
    const seed =
      this.file.secret.bip32Seed === true
        ? Uint8Array.from(plain)
        : mnemonicToSeed(new TextDecoder().decode(plain));
    plain.fill(0);
    this.lock();
    try {
      this.imported.unlock(key);
    } finally {
      key.fill(0);
    }
    this.setPrivate(seed);
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
    this.file.secret = { encrypted: fresh.enc, ...(this.file.secret.bip32Seed ? { bip32Seed: true } : {}) };
    this.save();
  }

  /** Encrypts an unencrypted wallet (encryptwallet); the wallet is locked afterwards. */
  async encrypt(passphrase: string, scrypt?: ScryptParams): Promise<void> {
    if ('encrypted' in this.file.secret) throw new WalletError('Error: wallet is already encrypted.');
    if (passphrase === '') throw new WalletError('passphrase cannot be empty');
    const secret = this.file.secret;
    const { enc, key } = await encryptSecretWithKey(
      'seed' in secret ? hexToBytes(secret.seed) : new TextEncoder().encode(secret.mnemonic),
      passphrase,
      scrypt ?? (await calibrateScrypt()),
    );
    try {
      this.imported.reseal(null, key);
    } finally {
      key.fill(0);
    }
    this.file.secret = { encrypted: enc, ...('seed' in secret ? { bip32Seed: true } : {}) };
    this.save();
    this.imported.lock();
    this.privateBranches?.[RECEIVE].wipePrivateData();
    this.privateBranches?.[CHANGE].wipePrivateData();
    this.privateBranches = null;
    this.masterKey?.wipePrivateData();
    this.masterKey = null;
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

  // --- addresses -----------------------------------------------------------------------------

  get prefixes(): AddressPrefixes {
    return this.opts.prefixes;
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

  protected markUsed(ref: KeyRef): void {
    // A kept keypool key that is paid leaves the pool, with those before it (Core's MarkUnusedAddresses).
    if (ref.origin === 'key' && ref.publicKey !== undefined) this.imported.usedFromKeypool(ref.publicKey);
    const st = this.branchState(ref.branch);
    if (ref.index + 1 > st.used) {
      st.used = ref.index + 1;
      if (st.next < st.used) st.next = st.used;
      this.extendLookahead(ref.branch);
    }
  }

  private takeAddress(b: Branch): string {
    // Core's keypool after sethdseed newkeypool=false: the old chain's keys go first.
    const kept = this.imported.takeFromKeypool(b === CHANGE);
    if (kept !== undefined) {
      this.save();
      return this.p2pkhAddress(kept);
    }
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

  /**
   * keypoolrefill: watches at least `size` addresses past the last used one on each branch.
   * newkeypool (`fresh`): every address handed out or pre-derived so far counts as used.
   */
  refillKeypool(size: number, fresh = false): void {
    if (size > this.file.gap) this.file.gap = size;
    if (fresh) this.imported.clearKeypool();
    if (fresh)
      for (const b of [RECEIVE, CHANGE] as const) {
        const st = this.branchState(b);
        st.next = Math.max(st.next, this.derived[b]);
      }
    this.extendLookahead(RECEIVE);
    this.extendLookahead(CHANGE);
    this.save();
  }

  /** Receive keys pre-derived and not handed out: the chain's lookahead and kept keypool keys. */
  get keypoolSize(): number {
    return this.derived[RECEIVE] - this.file.receive.next + this.imported.keypoolCount(false);
  }

  /** The same for change keys (Core's keypoolsize_hd_internal). */
  get internalKeypoolSize(): number {
    return this.derived[CHANGE] - this.file.change.next + this.imported.keypoolCount(true);
  }

  /**
   * Core's birthtime: the earliest key's time, the HD chain's birth or an imported key's or
   * script's; undefined while the chain's is unknown (restored from a phrase).
   */
  get birthTime(): number | undefined {
    if (this.file.hdBirth === undefined) return undefined;
    return Math.min(
      this.file.hdBirth,
      ...this.imported.keys.map((k) => k.time),
      ...this.imported.scripts.map((s) => s.time),
    );
  }

  isMine(script: Uint8Array): boolean {
    return this.scripts.has(bytesToHex(script));
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
      change: ref.branch === CHANGE,
      path: hd ? keyPath(this.file.coinType, ref.branch, ref.index) : ref.hd?.path,
      hdSeedId: hd ? this.file.hdMaster?.seedId : ref.hd?.seedId,
      hdFingerprint: hd ? this.file.hdMaster?.fingerprint : ref.hd?.fingerprint,
      publicKey: ref.publicKey,
      redeemScript: ref.redeemScript,
      // An HD key's creation time is its chain's birth (unknown for a chain restored from a phrase).
      time: hd ? this.file.hdBirth : ref.time,
    };
  }

  labelOf(address: string): string | undefined {
    return this.file.labels[address];
  }

  /** address -> label for every labelled address. */
  labels(): Record<string, string> {
    return { ...this.file.labels };
  }

  setLabel(address: string, label: string): void {
    decodeAddress(address, this.opts.prefixes);
    if (label === '') delete this.file.labels[address];
    else this.file.labels[address] = label;
    this.save();
  }

  // --- imported keys and watched scripts -----------------------------------------------------

  /** Follows every imported script; a script of the HD chain stays the HD chain's. */
  private indexImported(): void {
    for (const [hex, r] of this.imported.refs()) {
      if (this.scripts.get(hex)?.origin === 'hd') continue;
      this.scripts.set(hex, { branch: r.change === true ? CHANGE : RECEIVE, index: -1, ...r });
    }
  }

  /** Whether the wallet can sign for the script (Core's ISMINE_SPENDABLE); watch-only otherwise. */
  protected canSign(ref: KeyRef): boolean {
    if (ref.origin === 'hd' || ref.origin === 'key') return true;
    const ms = ref.redeemScript === undefined ? null : multisigOf(ref.redeemScript);
    return ms !== null && ms.pubkeys.filter((k) => this.holdsKey(k)).length >= ms.m;
  }

  protected isSolvable(ref: KeyRef, script: Uint8Array): boolean {
    if (ref.publicKey !== undefined) return true;
    if (ref.redeemScript !== undefined) return multisigOf(ref.redeemScript) !== null;
    const type = classifyScript(script).type;
    return type === 'multisig' || type === 'pubkey';
  }

  /**
   * Serialized size of an input spending the script, at most: the wallet grinds R low
   * (signDerLowR), so each signature is at most 70 bytes of DER plus the hash type, as Core's
   * wallet sizes its own inputs (DUMMY_SIGNATURE_CREATOR); 147 bytes for P2PKH with a compressed
   * key, as Core.
   */
  protected inputSizeOf(ref: KeyRef): number {
    const ms = ref.redeemScript === undefined ? null : multisigOf(ref.redeemScript);
    let scriptSig: number;
    if (ms !== null) {
      const redeem = ref.redeemScript!.length;
      scriptSig = 1 + ms.m * OWN_SIG_PUSH + (redeem < 76 ? 1 : redeem < 256 ? 2 : 3) + redeem;
    } else {
      // P2PKH: 147 bytes in all with a compressed key, 32 more with an uncompressed one.
      scriptSig = OWN_SIG_PUSH + 1 + (ref.publicKey?.length ?? 33);
    }
    return 32 + 4 + compactSizeLength(scriptSig) + scriptSig + 4;
  }

  /** The HD chain's seed id (getwalletinfo's hdseedid), once the seed has been open. */
  get hdSeedId(): string | undefined {
    return this.file.hdMaster?.seedId;
  }

  /**
   * Where a public key of the wallet comes from (Core's KeyOriginInfo): the master key fingerprint
   * and BIP32 path of an HD key, the current chain's or a replaced one's; null when unknown.
   */
  keyOrigin(pubkey: Uint8Array): { fingerprint: string; path: number[] } | null {
    const info = this.scriptInfo(p2pkhScript(hash160(pubkey)));
    if (info?.path === undefined || info.hdFingerprint === undefined) return null;
    if (info.publicKey === undefined || !equalBytes(info.publicKey, pubkey)) return null;
    const path = info.path
      .split('/')
      .slice(1)
      .map((p) => (p.endsWith("'") ? parseInt(p, 10) + HARDENED : parseInt(p, 10)));
    return { fingerprint: info.hdFingerprint, path };
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
            time: this.file.hdBirth ?? 0,
          }),
        );
    for (const k of this.imported.keys) {
      if (k.secret === undefined) continue;
      const pub = hexToBytes(k.pubkey);
      this.imported.withKey(pub, (sk, pk) =>
        fn(sk, pk, { path: k.hdkeypath, change: k.change === true, reserve: false, time: k.time }),
      );
    }
  }

  /**
   * sethdseed: a new HD chain from `seed` (32 bytes, used as the BIP32 seed as Core does with a
   * WIF key's bytes). Every key the old chain derived so far is kept as an imported key with its HD
   * path (change keys stay change), so its coins and addresses remain the wallet's; new addresses
   * come from the new chain, from index 0. The mnemonic, if any, then restores only the old keys.
   * Needs the wallet unlocked. False (nothing changed) when the seed's key is one the wallet holds.
   */
  setHdSeed(seed: Uint8Array, keepKeypool = false): boolean {
    this.requireUnlocked();
    if (seed.length !== 32) throw new WalletError('an HD seed is 32 bytes');
    const secret = this.file.secret;
    const seedPub = publicKeyFromPrivate(seed, true);
    const current = 'seed' in secret ? hexToBytes(secret.seed) : null;
    if (this.holdsKey(seedPub) || this.holdsKey(publicKeyFromPrivate(seed, false))) return false;
    if (current !== null && equalBytes(current, seed)) return false;
    const birth = this.file.hdBirth ?? 0;
    for (const b of [RECEIVE, CHANGE] as const)
      for (let i = 0; i < this.derived[b]; i++)
        this.withPrivateKey(b, i, (sk) =>
          this.imported.addPrivate(sk, true, birth, {
            hdkeypath: keyPath(this.file.coinType, b, i),
            change: b === CHANGE,
            hdseedid: this.file.hdMaster?.seedId,
            hdfingerprint: this.file.hdMaster?.fingerprint,
            // newkeypool=false: the old chain's keys not handed out yet are handed out first.
            ...(keepKeypool && i >= this.branchState(b).next ? { keypool: true } : {}),
          }),
        );
    const account = accountKey(Uint8Array.from(seed), this.file.coinType);
    const receive = account.deriveChild(RECEIVE);
    const change = account.deriveChild(CHANGE);
    account.wipePrivateData();
    this.file.receive = { xpub: receive.publicExtendedKey, next: 0, used: 0 };
    this.file.change = { xpub: change.publicExtendedKey, next: 0, used: 0 };
    receive.wipePrivateData();
    change.wipePrivateData();
    this.file.secret = this.isEncrypted
      ? {
          encrypted: {
            ...(secret as { encrypted: EncryptedSecret }).encrypted,
            ...this.imported.sealSecret(seed),
          },
          bip32Seed: true,
        }
      : { seed: bytesToHex(seed) };
    this.file.hdBirth = Math.floor(this.now() / 1000);
    // The old chain's scripts are now imported keys; the new chain starts its lookahead.
    for (const [hex, ref] of [...this.scripts]) if (ref.origin === 'hd') this.scripts.delete(hex);
    this.branches = {
      [RECEIVE]: HDKey.fromExtendedKey(this.file.receive.xpub),
      [CHANGE]: HDKey.fromExtendedKey(this.file.change.xpub),
    };
    this.derived[RECEIVE] = 0;
    this.derived[CHANGE] = 0;
    this.indexImported();
    this.extendLookahead(RECEIVE);
    this.extendLookahead(CHANGE);
    this.privateBranches?.[RECEIVE].wipePrivateData();
    this.privateBranches?.[CHANGE].wipePrivateData();
    this.masterKey?.wipePrivateData();
    this.setPrivate(Uint8Array.from(seed));
    this.save();
    return true;
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
}

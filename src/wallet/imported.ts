// Keys and scripts beside the HD chain (Core's legacy wallet imports): private keys from
// importprivkey/importwallet, watched public keys (importpubkey), watched output scripts
// (importaddress, importmulti) and P2SH redeem scripts (addmultisigaddress). Owns the wallet file's
// `imported` section and the private keys in memory. In an encrypted wallet each private key is
// sealed (AES-256-GCM, its own IV) under the key derived from the wallet's passphrase, as Core
// encrypts every key under its master key: importing one needs the wallet unlocked, and the keys
// are opened at unlock and zeroed at lock. Fails with WalletLockedError when a sealed key is needed
// while locked.
import { hash160 } from '../crypto/hash.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { classifyScript, p2pkhScript, p2shScript } from '../script/standard.js';
import { WalletLockedError } from './errors.js';
import { seal, unseal } from './keystore.js';
import type { ImportedKey, ImportedScript, WalletFile } from './store.js';

/** What the wallet knows of one output script that is not on its HD chain. */
export interface ImportedRef {
  /** 'key': a private key held; 'watch': a watched script or public key; 'p2sh': a known redeem script. */
  origin: 'key' | 'watch' | 'p2sh';
  publicKey?: Uint8Array;
  redeemScript?: Uint8Array;
  time: number;
  /** A change key of an HD chain that sethdseed replaced. */
  change?: boolean;
  /** A key of an HD chain that sethdseed replaced: its path, that chain's seed id and fingerprint. */
  hd?: { path: string; seedId?: string; fingerprint?: string };
}

export class ImportedKeys {
  /** Public key hex -> private key, while available (unencrypted, or unlocked). */
  private readonly secrets = new Map<string, Uint8Array>();
  /** The passphrase-derived key while an encrypted wallet is unlocked. */
  private passKey: Uint8Array | null = null;
  /** Public key hex -> its entry in the file. */
  private readonly byPubkey = new Map<string, ImportedKey>();

  constructor(
    private readonly file: WalletFile,
    private readonly encrypted: () => boolean,
  ) {
    for (const k of file.imported.keys) {
      this.byPubkey.set(k.pubkey, k);
      if (k.secret !== undefined && 'plain' in k.secret)
        this.secrets.set(k.pubkey, hexToBytes(k.secret.plain));
    }
  }

  /** Every output script the imports make the wallet follow, with what it knows of each. */
  *refs(): Iterable<[scriptHex: string, ref: ImportedRef]> {
    // Scripts first: a key watching the same P2PKH script says more (its public key).
    for (const s of this.file.imported.scripts)
      yield [
        s.script,
        s.redeemScript === undefined
          ? { origin: 'watch', time: s.time }
          : { origin: 'p2sh', redeemScript: hexToBytes(s.redeemScript), time: s.time },
      ];
    for (const k of this.file.imported.keys) {
      const pub = hexToBytes(k.pubkey);
      yield [
        bytesToHex(p2pkhScript(hash160(pub))),
        {
          origin: k.secret === undefined ? 'watch' : 'key',
          publicKey: pub,
          time: k.time,
          ...(k.change === true ? { change: true } : {}),
          ...(k.hdkeypath !== undefined
            ? { hd: { path: k.hdkeypath, seedId: k.hdseedid, fingerprint: k.hdfingerprint } }
            : {}),
        },
      ];
    }
  }

  get keys(): readonly ImportedKey[] {
    return this.file.imported.keys;
  }

  get scripts(): readonly ImportedScript[] {
    return this.file.imported.scripts;
  }

  // --- the keypool kept by sethdseed newkeypool=false ------------------------------------------

  private pooled(change: boolean): ImportedKey[] {
    return this.file.imported.keys.filter((k) => k.keypool === true && (k.change === true) === change);
  }

  /** Hands out the first kept keypool key of the kind (change or receive): its public key. */
  takeFromKeypool(change: boolean): Uint8Array | undefined {
    const k = this.pooled(change)[0];
    if (k === undefined) return undefined;
    delete k.keypool;
    return hexToBytes(k.pubkey);
  }

  /** A kept keypool key was paid: it and the keys of its kind before it leave the pool. */
  usedFromKeypool(pubkey: Uint8Array): void {
    const hex = bytesToHex(pubkey);
    const k = this.byPubkey.get(hex);
    if (k?.keypool !== true) return;
    for (const p of this.pooled(k.change === true)) {
      delete p.keypool;
      if (p === k) break;
    }
  }

  keypoolCount(change: boolean): number {
    return this.pooled(change).length;
  }

  /** newkeypool: the kept keypool is flushed, as Core's NewKeyPool. */
  clearKeypool(): void {
    for (const k of this.file.imported.keys) delete k.keypool;
  }

  /** Whether the wallet holds the private key of `pubkey` (sealed or not). */
  hasPrivate(pubkey: Uint8Array): boolean {
    return this.byPubkey.get(bytesToHex(pubkey))?.secret !== undefined;
  }

  /** Runs `fn` with the private key of `pubkey`; undefined when none is held. */
  withKey<T>(pubkey: Uint8Array, fn: (sk: Uint8Array, pk: Uint8Array) => T): T | undefined {
    if (!this.hasPrivate(pubkey)) return undefined;
    const sk = this.secrets.get(bytesToHex(pubkey));
    if (sk === undefined) throw new WalletLockedError();
    return fn(sk, pubkey);
  }

  private seal(sk: Uint8Array): ImportedKey['secret'] {
    if (!this.encrypted()) return { plain: bytesToHex(sk) };
    if (this.passKey === null) throw new WalletLockedError();
    return { sealed: seal(this.passKey, sk) };
  }

  /**
   * importprivkey: adds (or completes a watched public key with) a private key. Returns the
   * public key used (compressed as asked) and whether anything was new.
   */
  addPrivate(
    sk: Uint8Array,
    compressed: boolean,
    time: number,
    hd?: Pick<ImportedKey, 'hdkeypath' | 'change' | 'hdseedid' | 'hdfingerprint' | 'keypool'>,
  ): { publicKey: Uint8Array; added: boolean } {
    const publicKey = publicKeyFromPrivate(sk, compressed);
    const hex = bytesToHex(publicKey);
    const existing = this.byPubkey.get(hex);
    if (existing?.secret !== undefined) return { publicKey, added: false };
    const secret = this.seal(sk);
    if (existing !== undefined) {
      existing.secret = secret;
      existing.time = Math.min(existing.time, time);
    } else this.push({ pubkey: hex, secret, time, ...hd });
    this.secrets.set(hex, Uint8Array.from(sk));
    return { publicKey, added: true };
  }

  /** importpubkey: watches the P2PKH output of a public key. False when known already. */
  addPublic(publicKey: Uint8Array, time: number): boolean {
    const hex = bytesToHex(publicKey);
    if (this.byPubkey.has(hex)) return false;
    this.push({ pubkey: hex, time });
    return true;
  }

  private push(k: ImportedKey): void {
    this.file.imported.keys.push(k);
    this.byPubkey.set(k.pubkey, k);
  }

  /** importaddress / addmultisigaddress: watches a script (a P2SH one with its redeem script). */
  addScript(script: Uint8Array, redeemScript: Uint8Array | undefined, time: number): boolean {
    const hex = bytesToHex(script);
    const existing = this.file.imported.scripts.find((s) => s.script === hex);
    if (existing !== undefined) {
      if (existing.redeemScript !== undefined || redeemScript === undefined) return false;
      existing.redeemScript = bytesToHex(redeemScript);
      return true;
    }
    this.file.imported.scripts.push({
      script: hex,
      ...(redeemScript !== undefined ? { redeemScript: bytesToHex(redeemScript) } : {}),
      time,
    });
    return true;
  }

  /** Seals bytes under the passphrase key (sethdseed's new seed); needs the wallet unlocked. */
  sealSecret(plain: Uint8Array): { iv: string; tag: string; ciphertext: string } {
    if (this.passKey === null) throw new WalletLockedError();
    return seal(this.passKey, plain);
  }

  /** Opens every sealed key with the passphrase key (walletpassphrase); keeps the key until lock. */
  unlock(passKey: Uint8Array): void {
    this.lock();
    for (const k of this.file.imported.keys)
      if (k.secret !== undefined && 'sealed' in k.secret)
        this.secrets.set(k.pubkey, unseal(passKey, k.secret.sealed));
    this.passKey = Uint8Array.from(passKey);
  }

  /** Zeroes every private key of an encrypted wallet. */
  lock(): void {
    if (!this.encrypted()) return;
    for (const sk of this.secrets.values()) sk.fill(0);
    this.secrets.clear();
    this.passKey?.fill(0);
    this.passKey = null;
  }

  /** encryptwallet and walletpassphrasechange: every key sealed again under `newKey`. */
  reseal(oldKey: Uint8Array | null, newKey: Uint8Array): void {
    for (const k of this.file.imported.keys) {
      if (k.secret === undefined) continue;
      const sk =
        'plain' in k.secret ? hexToBytes(k.secret.plain) : unseal(oldKey as Uint8Array, k.secret.sealed);
      k.secret = { sealed: seal(newKey, sk) };
      sk.fill(0);
    }
    if (this.passKey !== null) this.passKey = Uint8Array.from(newKey);
  }
}

/** The P2SH output script of a redeem script. */
export function p2shOf(redeemScript: Uint8Array): Uint8Array {
  return p2shScript(hash160(redeemScript));
}

/** m and the public keys of a bare multisig redeem script, or null. */
export function multisigOf(redeemScript: Uint8Array): { m: number; pubkeys: Uint8Array[] } | null {
  const c = classifyScript(redeemScript);
  return c.type === 'multisig' ? { m: c.m, pubkeys: c.pubkeys } : null;
}

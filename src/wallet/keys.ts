// HD keys: BIP39 mnemonics (English wordlist) and BIP32 derivation on a BIP44-style path
// m/44'/COIN_TYPE'/0'/<0 receive | 1 change>/i. Tally's coin type is TALLY_COIN_TYPE on main and
// 1 (the BIP44 convention for test coins) on test and regtest. Fails with a typed error on an
// invalid mnemonic.
import { HDKey } from '@scure/bip32';
import { entropyToMnemonic, generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { hash160 } from '../crypto/hash.js';
import { publicKeyFromPrivate } from '../crypto/secp256k1.js';
import { bytesToHex } from '../primitives/bytes.js';

/** 0x54414c ("TAL"): far above the numbers SLIP-44 hands out in sequence; recorded in each wallet file. */
export const TALLY_COIN_TYPE = 0x54414c;
export const TEST_COIN_TYPE = 1;
export const HARDENED = 0x80000000;
export const RECEIVE = 0;
export const CHANGE = 1;
export type Branch = typeof RECEIVE | typeof CHANGE;

export class MnemonicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MnemonicError';
  }
}

export function coinTypeFor(network: string): number {
  return network === 'main' ? TALLY_COIN_TYPE : TEST_COIN_TYPE;
}

export function newMnemonic(strengthBits = 128): string {
  return generateMnemonic(wordlist, strengthBits);
}

export function mnemonicFromEntropy(entropy: Uint8Array): string {
  return entropyToMnemonic(entropy, wordlist);
}

export function normalizeMnemonic(mnemonic: string): string {
  const m = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
  if (!validateMnemonic(m, wordlist))
    throw new MnemonicError('invalid mnemonic: unknown word or bad checksum');
  return m;
}

export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  return mnemonicToSeedSync(normalizeMnemonic(mnemonic), passphrase);
}

/** m/44'/coinType'/0' from a seed. */
export function accountKey(seed: Uint8Array, coinType: number): HDKey {
  const root = HDKey.fromMasterSeed(seed);
  const account = root.derive(`m/44'/${coinType}'/0'`);
  root.wipePrivateData();
  return account;
}

/**
 * An HD chain's seed id and master key fingerprint (hex). Core's hdseedid is the hash160 of the
 * seed's public key: a sethdseed seed (32 bytes) is a private key; a mnemonic's seed (64 bytes) is
 * not, so its master key's public key stands in.
 */
export function hdMasterOf(seed: Uint8Array): { seedId: string; fingerprint: string } {
  const master = HDKey.fromMasterSeed(seed);
  const pub = seed.length === 32 ? publicKeyFromPrivate(seed, true) : master.publicKey!;
  const fingerprint = master.fingerprint.toString(16).padStart(8, '0');
  master.wipePrivateData();
  return { seedId: bytesToHex(hash160(pub)), fingerprint };
}

export function keyPath(coinType: number, branch: Branch, index: number): string {
  return `m/44'/${coinType}'/0'/${branch}/${index}`;
}

export interface DerivedKey {
  branch: Branch;
  index: number;
  publicKey: Uint8Array;
  pubkeyHash: Uint8Array;
}

/** Public derivation from an account xpub (no secrets needed). */
export function derivePublic(branchKey: HDKey, branch: Branch, index: number): DerivedKey {
  const child = branchKey.deriveChild(index);
  const publicKey = child.publicKey!;
  return { branch, index, publicKey, pubkeyHash: hash160(publicKey) };
}

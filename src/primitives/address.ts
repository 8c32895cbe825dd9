// Base58 and base58check: P2PKH and P2SH addresses and WIF private keys, as Bitcoin encodes them.
// Owns: the encodings and the two output-script templates an address stands for. Does not own:
// which version bytes a network uses (callers pass `prefixes`, normally from consensus params) or
// any other script template (script/). Fails with AddressError, a DecodeError with a reason.
import bs58Import from 'bs58';
import bs58checkImport from 'bs58check';
import { isValidPrivateKey } from '../crypto/secp256k1.js';
import { DecodeError, concatBytes, equalBytes } from './bytes.js';

export interface AddressPrefixes {
  /** Version byte of P2PKH addresses (Bitcoin main 0). */
  readonly pubkeyHash: number;
  /** Version byte of P2SH addresses (Bitcoin main 5). */
  readonly scriptHash: number;
  /** Version byte of WIF private keys (Bitcoin main 128). */
  readonly wif: number;
}

export type AddressKind = 'pubkeyhash' | 'scripthash';

export class AddressError extends DecodeError {
  override readonly name: string = 'AddressError';
  constructor(
    reason: string,
    field = 'address',
    /** The version byte of a well-formed address of another network (which one: the caller knows). */
    readonly foreignVersion?: number,
  ) {
    super(reason, field);
  }
}

interface Codec {
  encode(payload: Uint8Array): string;
  decode(str: string): Uint8Array;
}

// Both packages ship ESM and CJS builds; depending on how a bundler or loader resolves them the
// codec is either the default export itself or sits one `.default` deeper.
function unwrap(mod: unknown): Codec {
  const m = mod as Codec & { default?: Codec };
  return typeof m.encode === 'function' ? m : (m.default as Codec);
}
const base58 = unwrap(bs58Import);
const base58check = unwrap(bs58checkImport);

const WIF_COMPRESSED_FLAG = 0x01;

/** Raw Base58 (no checksum), Bitcoin's alphabet; leading zero bytes become leading '1's. */
export function base58Encode(data: Uint8Array): string {
  return base58.encode(data);
}

export function base58Decode(str: string): Uint8Array {
  if (typeof str !== 'string') throw new AddressError('not a string', 'base58');
  try {
    return Uint8Array.from(base58.decode(str));
  } catch {
    throw new AddressError('invalid base58 character', 'base58');
  }
}

/** Base58 with the 4-byte double-SHA-256 checksum. */
export function base58CheckEncode(payload: Uint8Array): string {
  return base58check.encode(payload);
}

export function base58CheckDecode(str: string, field = 'base58check'): Uint8Array {
  const raw = base58Decode(str);
  if (raw.length < 4) throw new AddressError('too short for a checksum', field);
  try {
    return Uint8Array.from(base58check.decode(str));
  } catch {
    throw new AddressError('bad checksum', field);
  }
}

function checkPrefix(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new AddressError('version byte must be 0..255', field);
  return v;
}

function checkHash160(hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== 20) {
    throw new AddressError('hash must be 20 bytes', 'address.hash');
  }
}

export function encodeAddress(kind: AddressKind, hash160: Uint8Array, prefixes: AddressPrefixes): string {
  checkHash160(hash160);
  let version: number;
  if (kind === 'pubkeyhash') version = checkPrefix(prefixes.pubkeyHash, 'prefixes.pubkeyHash');
  else if (kind === 'scripthash') version = checkPrefix(prefixes.scriptHash, 'prefixes.scriptHash');
  else throw new AddressError(`unknown address kind ${String(kind)}`, 'address.kind');
  return base58CheckEncode(concatBytes(Uint8Array.of(version), hash160));
}

export function decodeAddress(
  str: string,
  prefixes: AddressPrefixes,
): { kind: AddressKind; hash: Uint8Array } {
  const payload = base58CheckDecode(str, 'address');
  if (payload.length !== 21) {
    throw new AddressError(`payload is ${payload.length} bytes, expected 21 (version + hash160)`);
  }
  const version = payload[0];
  const hash = payload.slice(1);
  if (version === checkPrefix(prefixes.pubkeyHash, 'prefixes.pubkeyHash'))
    return { kind: 'pubkeyhash', hash };
  if (version === checkPrefix(prefixes.scriptHash, 'prefixes.scriptHash'))
    return { kind: 'scripthash', hash };
  throw new AddressError(`version byte ${version} is not this network's P2PKH or P2SH`, 'address', version);
}

// OP_DUP OP_HASH160 <20> ... OP_EQUALVERIFY OP_CHECKSIG, and OP_HASH160 <20> ... OP_EQUAL.
const P2PKH_HEAD = Uint8Array.of(0x76, 0xa9, 0x14);
const P2PKH_TAIL = Uint8Array.of(0x88, 0xac);
const P2SH_HEAD = Uint8Array.of(0xa9, 0x14);
const P2SH_TAIL = Uint8Array.of(0x87);

export function addressToScript(str: string, prefixes: AddressPrefixes): Uint8Array {
  const { kind, hash } = decodeAddress(str, prefixes);
  return kind === 'pubkeyhash'
    ? concatBytes(P2PKH_HEAD, hash, P2PKH_TAIL)
    : concatBytes(P2SH_HEAD, hash, P2SH_TAIL);
}

/** The address a P2PKH or P2SH output pays to; null for any other script. */
export function scriptToAddress(script: Uint8Array, prefixes: AddressPrefixes): string | null {
  const at = (head: Uint8Array, tail: Uint8Array): boolean =>
    script.length === head.length + 20 + tail.length &&
    equalBytes(script.subarray(0, head.length), head) &&
    equalBytes(script.subarray(head.length + 20), tail);
  if (at(P2PKH_HEAD, P2PKH_TAIL)) return encodeAddress('pubkeyhash', script.slice(3, 23), prefixes);
  if (at(P2SH_HEAD, P2SH_TAIL)) return encodeAddress('scripthash', script.slice(2, 22), prefixes);
  return null;
}

/** Wallet Import Format: version byte, 32-byte key, and 0x01 when the public key is compressed. */
export function encodeWif(privateKey: Uint8Array, compressed: boolean, prefixes: AddressPrefixes): string {
  if (!(privateKey instanceof Uint8Array) || !isValidPrivateKey(privateKey)) {
    throw new AddressError('not a valid secp256k1 private key', 'wif.privateKey');
  }
  const version = Uint8Array.of(checkPrefix(prefixes.wif, 'prefixes.wif'));
  const parts = compressed
    ? [version, privateKey, Uint8Array.of(WIF_COMPRESSED_FLAG)]
    : [version, privateKey];
  return base58CheckEncode(concatBytes(...parts));
}

export function decodeWif(
  str: string,
  prefixes: AddressPrefixes,
): { privateKey: Uint8Array; compressed: boolean } {
  const payload = base58CheckDecode(str, 'wif');
  let compressed: boolean;
  if (payload.length === 33) compressed = false;
  else if (payload.length === 34 && payload[33] === WIF_COMPRESSED_FLAG) compressed = true;
  else throw new AddressError(`payload is ${payload.length} bytes, expected 33 or 34 ending in 01`, 'wif');
  if (payload[0] !== checkPrefix(prefixes.wif, 'prefixes.wif')) {
    throw new AddressError(`version byte ${payload[0]} is not this network's WIF`, 'wif');
  }
  const privateKey = payload.slice(1, 33);
  if (!isValidPrivateKey(privateKey))
    throw new AddressError('key is zero or not below the curve order', 'wif');
  return { privateKey, compressed };
}

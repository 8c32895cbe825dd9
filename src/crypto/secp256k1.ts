// secp256k1 ECDSA for Bitcoin script: keys, RFC 6979 signing, DER (Bitcoin's lax pre-BIP66 parser
// and the strict BIP66 rules), low-S, and verification behind one small backend interface.
// Owns: choosing the verification backend (libsecp256k1 through the `secp256k1` binding when it
// loads, @noble/secp256k1 otherwise). Does not own: script error codes; callers map false to those.
// Verification never throws: a bad key, signature or encoding is simply `false`.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as noble from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

noble.hashes.sha256 = nobleSha256;
noble.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(nobleSha256, key, msg);

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

export interface EcdsaBackend {
  readonly name: 'libsecp256k1' | 'noble';
  /** sig64: r||s, both in [1, n), s already low; pubkey: 33 or 65 bytes (02/03/04 prefix). */
  verify(sig64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
}

export const nobleBackend: EcdsaBackend = {
  name: 'noble',
  verify(sig64, msg32, pubkey) {
    try {
      return noble.verify(sig64, msg32, pubkey, { prehash: false, lowS: false });
    } catch {
      return false;
    }
  },
};

interface NativeBinding {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

function loadNative(): EcdsaBackend | null {
  try {
    const require = createRequire(import.meta.url);
    // `secp256k1/bindings` is the compiled libsecp256k1 only; the package's main entry would
    // silently fall back to a pure-JS implementation, which we do not want to count as native.
    const lib = require('secp256k1/bindings') as NativeBinding;
    return {
      name: 'libsecp256k1',
      verify(sig64, msg32, pubkey) {
        try {
          return lib.ecdsaVerify(sig64, msg32, pubkey);
        } catch {
          return false;
        }
      },
    };
  } catch {
    return null;
  }
}

export const nativeBackend: EcdsaBackend | null = loadNative();
let active: EcdsaBackend = nativeBackend ?? nobleBackend;

/** Picks the verification backend; 'auto' prefers libsecp256k1. Returns the one in use. */
export function selectBackend(which: 'auto' | 'libsecp256k1' | 'noble'): EcdsaBackend {
  if (which === 'noble') active = nobleBackend;
  else if (which === 'libsecp256k1') {
    if (!nativeBackend) throw new Error('libsecp256k1 binding (package "secp256k1") failed to load');
    active = nativeBackend;
  } else active = nativeBackend ?? nobleBackend;
  return active;
}

export function activeBackend(): EcdsaBackend {
  return active;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bigTo32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const N_BYTES = bigTo32(N);
const HALF_N_BYTES = bigTo32(HALF_N);

function compare32(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Bitcoin Core's `ecdsa_signature_parse_der_lax`, producing r || s as 64 big-endian bytes so the
 * verification path needs no bigint work. Returns null when the structure cannot be parsed at
 * all; returns all zeros (which never verifies) when R or S overflow, as Core does.
 */
function parseDerLaxCompact(sig: Uint8Array): Uint8Array | null {
  const len = sig.length;
  let pos = 0;
  if (pos === len || sig[pos] !== 0x30) return null;
  pos++;
  if (pos === len) return null;
  let lenbyte = sig[pos++];
  if (lenbyte & 0x80) {
    lenbyte -= 0x80;
    if (lenbyte > len - pos) return null;
    pos += lenbyte;
  }
  const ints: [number, number][] = [];
  for (let k = 0; k < 2; k++) {
    if (pos === len || sig[pos] !== 0x02) return null;
    pos++;
    if (pos === len) return null;
    lenbyte = sig[pos++];
    let ilen: number;
    if (lenbyte & 0x80) {
      lenbyte -= 0x80;
      if (lenbyte > len - pos) return null;
      while (lenbyte > 0 && sig[pos] === 0) {
        pos++;
        lenbyte--;
      }
      if (lenbyte >= 4) return null; // Core: >= sizeof(size_t); anything that large overflows anyway
      ilen = 0;
      while (lenbyte > 0) {
        ilen = ilen * 256 + sig[pos];
        pos++;
        lenbyte--;
      }
    } else ilen = lenbyte;
    if (ilen > len - pos) return null;
    ints.push([pos, ilen]);
    pos += ilen;
  }
  const out = new Uint8Array(64);
  for (let k = 0; k < 2; k++) {
    let [p, l] = ints[k];
    while (l > 0 && sig[p] === 0) {
      l--;
      p++;
    }
    if (l > 32) return new Uint8Array(64);
    out.set(sig.subarray(p, p + l), 32 * k + 32 - l);
  }
  if (compare32(out.subarray(0, 32), N_BYTES) >= 0 || compare32(out.subarray(32), N_BYTES) >= 0) {
    return new Uint8Array(64);
  }
  return out;
}

/**
 * Bitcoin Core's `ecdsa_signature_parse_der_lax`: accepts the BER-ish encodings that pre-BIP66
 * nodes accepted. Returns null when the structure cannot be parsed at all; returns [0n, 0n] (which
 * never verifies) when R or S overflow, as Core does.
 */
export function parseDerLax(sig: Uint8Array): [bigint, bigint] | null {
  const rs = parseDerLaxCompact(sig);
  return rs ? [bytesToBig(rs.subarray(0, 32)), bytesToBig(rs.subarray(32))] : null;
}

/** BIP66 strict DER, on a signature that still carries its trailing sighash-type byte. */
export function isValidSignatureEncoding(sig: Uint8Array): boolean {
  if (sig.length < 9 || sig.length > 73) return false;
  if (sig[0] !== 0x30) return false;
  if (sig[1] !== sig.length - 3) return false;
  const lenR = sig[3];
  if (5 + lenR >= sig.length) return false;
  const lenS = sig[5 + lenR];
  if (lenR + lenS + 7 !== sig.length) return false;
  if (sig[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if (sig[4] & 0x80) return false;
  if (lenR > 1 && sig[4] === 0x00 && !(sig[5] & 0x80)) return false;
  if (sig[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if (sig[lenR + 6] & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !(sig[lenR + 7] & 0x80)) return false;
  return true;
}

/** Core's CPubKey::CheckLowS on a DER signature without the sighash byte. */
export function isLowS(derSig: Uint8Array): boolean {
  const rs = parseDerLaxCompact(derSig);
  return rs !== null && compare32(rs.subarray(32), HALF_N_BYTES) <= 0;
}

/**
 * Core's CPubKey parsing: 33-byte compressed (02/03), 65-byte uncompressed (04) or hybrid (06/07,
 * whose prefix must match y's parity). Returns the key in 02/03/04 form, or null.
 */
export function normalizePubkey(pub: Uint8Array): Uint8Array | null {
  if (pub.length === 33 && (pub[0] === 2 || pub[0] === 3)) return pub;
  if (pub.length === 65 && (pub[0] === 4 || pub[0] === 6 || pub[0] === 7)) {
    if (pub[0] === 4) return pub;
    const yOdd = (pub[64] & 1) === 1;
    if (yOdd !== (pub[0] === 7)) return null;
    const out = pub.slice();
    out[0] = 4;
    return out;
  }
  return null;
}

/** True when the bytes are a point on the curve (any accepted encoding). */
export function isValidPubkey(pub: Uint8Array): boolean {
  const n = normalizePubkey(pub);
  if (!n) return false;
  try {
    noble.Point.fromBytes(n);
    return true;
  } catch {
    return false;
  }
}

/** The 65-byte form of a 33-byte compressed key; null if it is not a point on the curve. */
export function decompressPubkey(pub: Uint8Array): Uint8Array | null {
  try {
    return noble.Point.fromBytes(pub).toBytes(false);
  } catch {
    return null;
  }
}

/**
 * Verifies a DER signature (no sighash byte) as Bitcoin Core's CPubKey::Verify does: lax DER
 * parsing, S normalised to the low half (low-S is policy, not consensus), then the backend.
 */
export function verifyDer(
  derSig: Uint8Array,
  msg32: Uint8Array,
  pubkey: Uint8Array,
  backend: EcdsaBackend = active,
): boolean {
  const pub = normalizePubkey(pubkey);
  if (!pub || msg32.length !== 32) return false;
  const sig64 = parseDerLaxCompact(derSig);
  if (!sig64) return false;
  const r = sig64.subarray(0, 32);
  const s = sig64.subarray(32);
  if (r.every((b) => b === 0) || s.every((b) => b === 0)) return false;
  if (compare32(s, HALF_N_BYTES) > 0) s.set(bigTo32(N - bytesToBig(s)));
  return backend.verify(sig64, msg32, pub);
}

/** Strict DER encoding of (r, s). */
export function encodeDer(r: bigint, s: bigint): Uint8Array {
  const enc = (v: bigint): number[] => {
    const b = Array.from(bigTo32(v));
    while (b.length > 1 && b[0] === 0) b.shift();
    if (b[0] & 0x80) b.unshift(0);
    return b;
  };
  const rb = enc(r);
  const sb = enc(s);
  return Uint8Array.from([0x30, rb.length + sb.length + 4, 0x02, rb.length, ...rb, 0x02, sb.length, ...sb]);
}

export function isValidPrivateKey(sk: Uint8Array): boolean {
  if (sk.length !== 32) return false;
  const v = bytesToBig(sk);
  return v > 0n && v < N;
}

export function randomPrivateKey(): Uint8Array {
  for (;;) {
    const sk = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(sk)) return sk;
  }
}

export function publicKeyFromPrivate(sk: Uint8Array, compressed = true): Uint8Array {
  return noble.getPublicKey(sk, compressed);
}

/** RFC 6979 low-S signature r||s of a 32-byte digest; `extra` is RFC 6979's additional data (k'). */
function signCompact(msg32: Uint8Array, sk: Uint8Array, extra?: Uint8Array): Uint8Array {
  return noble.sign(msg32, sk, { prehash: false, lowS: true, extraEntropy: extra });
}

function compactToDer(sig: Uint8Array): Uint8Array {
  return encodeDer(bytesToBig(sig.subarray(0, 32)), bytesToBig(sig.subarray(32, 64)));
}

/** RFC 6979 deterministic, low-S signature of a 32-byte digest, DER-encoded (no sighash byte). */
export function signDer(msg32: Uint8Array, sk: Uint8Array): Uint8Array {
  return compactToDer(signCompact(msg32, sk));
}

/**
 * Bitcoin Core's wallet signature (CKey::Sign with grind): RFC 6979 as signDer, then again with
 * extra entropy (a counter from 1, little-endian in 32 bytes) until R is below 2^255, so the DER
 * signature is at most 70 bytes and the wallet can size every one at 71 with the hash type. Half
 * the signatures need no retry; each retry halves what is left. Byte for byte what Core makes.
 */
export function signDerLowR(msg32: Uint8Array, sk: Uint8Array): Uint8Array {
  let sig = signCompact(msg32, sk);
  const extra = new Uint8Array(32);
  for (let counter = 1; sig[0] >= 0x80; counter++) {
    new DataView(extra.buffer).setUint32(0, counter, true);
    sig = signCompact(msg32, sk, extra);
  }
  return compactToDer(sig);
}

/** Exposed for tests: the curve order and the point-field prime. */
export const CURVE = { N, HALF_N, P };

/**
 * RFC 6979 low-S signature of a 32-byte digest with its recovery id (0-3), for Bitcoin's
 * compact message signatures: r||s and the id that recovers the public key.
 */
export function signRecoverable(msg32: Uint8Array, sk: Uint8Array): { sig64: Uint8Array; recid: number } {
  const sig = noble.sign(msg32, sk, { prehash: false, lowS: true, format: 'recovered' });
  return { sig64: sig.slice(1), recid: sig[0] };
}

/** The public key a recoverable signature was made with, or null when none is. */
export function recoverPublicKey(
  sig64: Uint8Array,
  recid: number,
  msg32: Uint8Array,
  compressed: boolean,
): Uint8Array | null {
  try {
    const pub = noble.recoverPublicKey(concatRecovery(recid, sig64), msg32, { prehash: false });
    return compressed ? pub : noble.Point.fromBytes(pub).toBytes(false);
  } catch {
    return null;
  }
}

function concatRecovery(recid: number, sig64: Uint8Array): Uint8Array {
  const out = new Uint8Array(65);
  out[0] = recid;
  out.set(sig64, 1);
  return out;
}

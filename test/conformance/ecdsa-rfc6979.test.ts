// bitcoinjs-lib's ecdsa.json: RFC 6979 deterministic signatures (message = SHA-256 of the UTF-8
// text) must be reproduced exactly by signDer, verify on both backends, and the invalid.verify
// signatures (wrong, zero, negative or out-of-range r/s) must fail on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type EcdsaBackend,
  encodeDer,
  nativeBackend,
  nobleBackend,
  publicKeyFromPrivate,
  signDer,
  verifyDer,
} from '../../src/crypto/secp256k1.js';
import { sha256 } from '../../src/crypto/hash.js';
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { readVectorJson } from '../vectors.js';

interface EcdsaJson {
  valid: { ecdsa: { d: string; k: string; message: string; signature: { r: string; s: string } }[] };
  invalid: {
    verify: { description: string; d: string; message: string; signature: { r: string; s: string } }[];
  };
}

const backends: EcdsaBackend[] = [nobleBackend, ...(nativeBackend ? [nativeBackend] : [])];
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const key32 = (hex: string): Uint8Array => hexToBytes(hex.padStart(64, '0'));

/** A DER INTEGER body for a signed value, two's complement, minimal, as a careless signer would write it. */
function derInt(v: bigint): number[] {
  let len = 1;
  while (v < -(1n << BigInt(8 * len - 1)) || v >= 1n << BigInt(8 * len - 1)) len++;
  let u = BigInt.asUintN(8 * len, v);
  const out: number[] = [];
  for (let i = 0; i < len; i++, u >>= 8n) out.unshift(Number(u & 0xffn));
  return out;
}

function derSigned(r: bigint, s: bigint): Uint8Array {
  const rb = derInt(r);
  const sb = derInt(s);
  return Uint8Array.from([0x30, rb.length + sb.length + 4, 0x02, rb.length, ...rb, 0x02, sb.length, ...sb]);
}

const signedHex = (h: string): bigint => (h.startsWith('-') ? -BigInt('0x' + h.slice(1)) : BigInt('0x' + h));

test('ecdsa.json valid: signDer reproduces all 7 RFC 6979 signatures, which verify on every backend', () => {
  const f = readVectorJson<EcdsaJson>('bitcoinjs-lib', 'ecdsa.json');
  assert.equal(f.valid.ecdsa.length, 7);
  for (const v of f.valid.ecdsa) {
    const sk = key32(v.d);
    const digest = sha256(text(v.message));
    const expected = encodeDer(BigInt('0x' + v.signature.r), BigInt('0x' + v.signature.s));
    const sig = signDer(digest, sk);
    assert.equal(bytesToHex(sig), bytesToHex(expected), v.message);
    for (const compressed of [true, false]) {
      const pub = publicKeyFromPrivate(sk, compressed);
      for (const b of backends) assert.equal(verifyDer(sig, digest, pub, b), true, `${b.name}: ${v.message}`);
    }
  }
});

test('ecdsa.json invalid.verify: all 8 fail on every backend', () => {
  const f = readVectorJson<EcdsaJson>('bitcoinjs-lib', 'ecdsa.json');
  assert.equal(f.invalid.verify.length, 8);
  for (const v of f.invalid.verify) {
    const pub = publicKeyFromPrivate(key32(v.d), true);
    const sig = derSigned(signedHex(v.signature.r), signedHex(v.signature.s));
    for (const b of backends) {
      assert.equal(verifyDer(sig, sha256(text(v.message)), pub, b), false, `${b.name}: ${v.description}`);
    }
  }
});

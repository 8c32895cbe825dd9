// Hash functions every other part uses: SHA-256, double SHA-256, RIPEMD-160 and HASH160.
// Owns: choosing the faster backend per input size. Does not own: the mining midstate hasher.
// Never fails on any input.
import { createHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ripemd160 as nobleRipemd160 } from '@noble/hashes/legacy.js';

// Measured on the 2-core dev machine (`npm run bench -- primitives`): @noble/hashes wins below
// 64 bytes, where node:crypto's per-call overhead dominates (32 B: ~495k vs ~425k double hashes/s);
// node:crypto (OpenSSL) wins from 64 bytes up and by 9x at 10 kB.
const NATIVE_MIN = 64;

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function sha256(data: Uint8Array): Uint8Array {
  if (data.length < NATIVE_MIN) return nobleSha256(data);
  return toU8(createHash('sha256').update(data).digest());
}

export function sha256d(data: Uint8Array): Uint8Array {
  return nobleSha256(sha256(data));
}

export function ripemd160(data: Uint8Array): Uint8Array {
  return nobleRipemd160(data);
}

export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

// Plain backends, exposed for benchmarks and the differential tests.
export const backends = {
  nodeSha256: (d: Uint8Array): Uint8Array => toU8(createHash('sha256').update(d).digest()),
  nobleSha256: (d: Uint8Array): Uint8Array => nobleSha256(d),
};

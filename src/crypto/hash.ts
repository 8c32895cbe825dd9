// Hash functions every other part uses: SHA-256, double SHA-256, RIPEMD-160 and HASH160.
// Owns: choosing the faster backend per input size. Does not own: the mining midstate hasher.
// Never fails on any input.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ripemd160 as nobleRipemd160 } from '@noble/hashes/legacy.js';

// Measured by `npm run bench -- primitives` (docs/benchmarks.md): below 64 bytes node:crypto's
// per-call overhead dominates and @noble/hashes is faster (32 B double hash: 1.44x); from 64 bytes
// up a single OpenSSL hash is faster, and at 250 B the double hash is 1.3x to 4.5x noble's.
// The native hash is taken through crypto.hash (one call, no Hash object): for the 190-byte
// preimage of a 2-input legacy sighash 0.82 us against createHash's 1.27 us (2-core dev machine).
const NATIVE_MIN = 64;

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function sha256(data: Uint8Array): Uint8Array {
  if (data.length < NATIVE_MIN) return nobleSha256(data);
  return toU8(oneShotHash('sha256', data, 'buffer'));
}

export function sha256d(data: Uint8Array): Uint8Array {
  return nobleSha256(sha256(data));
}

/**
 * OpenSSL's RIPEMD-160 where this build of Node has it (it is a legacy algorithm in OpenSSL 3,
 * which some builds leave out): 33-byte HASH160 input, 0.9-1.5 us against noble's 1.7-2.7 us.
 */
const nativeRipemd160 = ((): boolean => {
  try {
    oneShotHash('ripemd160', new Uint8Array(0), 'buffer');
    return true;
  } catch {
    return false;
  }
})();

export function ripemd160(data: Uint8Array): Uint8Array {
  return nativeRipemd160 ? toU8(oneShotHash('ripemd160', data, 'buffer')) : nobleRipemd160(data);
}

export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

// Plain backends, exposed for benchmarks and the differential tests.
export const backends = {
  nodeSha256: (d: Uint8Array): Uint8Array => toU8(createHash('sha256').update(d).digest()),
  nobleSha256: (d: Uint8Array): Uint8Array => nobleSha256(d),
  nobleRipemd160: (d: Uint8Array): Uint8Array => nobleRipemd160(d),
};

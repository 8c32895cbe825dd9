// Hash functions every other part uses: SHA-256, double SHA-256, RIPEMD-160 and HASH160.
// Owns: choosing the faster backend. Does not own: the mining midstate hasher.
// Never fails on any input.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ripemd160 as nobleRipemd160 } from '@noble/hashes/legacy.js';

// Native (OpenSSL) hashing through crypto.hash, one call with no Hash object, at every size: CPU
// per SHA-256 on the 2-core dev machine (7 rounds, median, load 12) 0.66 us at 32 bytes, 0.72 at
// 33 and 0.68 at 64, against @noble/hashes' 0.91, 0.98 and 1.30 us. (Through createHash the
// per-call overhead made noble faster below 64 bytes, and it was used there until 6 Dec 2026.)

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function sha256(data: Uint8Array): Uint8Array {
  return toU8(oneShotHash('sha256', data, 'buffer'));
}

export function sha256d(data: Uint8Array): Uint8Array {
  return toU8(oneShotHash('sha256', oneShotHash('sha256', data, 'buffer'), 'buffer'));
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

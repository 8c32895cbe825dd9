// Proof of work: Bitcoin's compact `bits` encoding, chain work and the hash-against-target check.
// Owns: the exact arithmetic of Bitcoin Core's arith_uint256 SetCompact/GetCompact (sign and
// overflow flags included) and CheckProofOfWork. Does not own: which bits a block must carry
// (retarget.ts). Never throws on consensus input: a bad `bits` makes checkProofOfWork return false.
import type { ChainParams } from './params.js';

const MASK_256 = (1n << 256n) - 1n;
const TWO_256 = 1n << 256n;

export interface CompactTarget {
  target: bigint;
  negative: boolean;
  overflow: boolean;
}

/**
 * Expands compact `bits` as Core's SetCompact does: the target is reduced to 256 bits (as the
 * fixed-width integer would be), and the sign and overflow flags are reported beside it.
 */
export function compactToTarget(bits: number): CompactTarget {
  const compact = bits >>> 0;
  const size = compact >>> 24;
  let word = compact & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK_256;
  }
  const negative = word !== 0 && (compact & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Compresses a target as Core's GetCompact does: rounds down to a 3-byte mantissa, and moves a
 * mantissa whose top bit is set up one byte, since that bit is the sign. `negative` sets the sign
 * bit (only when the mantissa is non-zero), as GetCompact(true) does.
 */
export function targetToCompact(target: bigint, negative = false): number {
  if (target < 0n || target > MASK_256) throw new RangeError('targetToCompact: target must be a uint256');
  let size = Math.floor((bitLength(target) + 7) / 8);
  let compact =
    size <= 3
      ? Number(target << BigInt(8 * (3 - size)))
      : Number((target >> BigInt(8 * (size - 3))) & 0xffffffn);
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  compact = (compact | (size << 24)) >>> 0;
  if (negative && (compact & 0x007fffff) !== 0) compact = (compact | 0x00800000) >>> 0;
  return compact;
}

/** Expected number of hashes to find a block at `bits`: 2^256 / (target + 1); 0 for an invalid bits. */
export function blockWork(bits: number): bigint {
  // A chain's headers mostly carry the bits of the one before: the last answer is kept, as a
  // 256-bit division per header was a measurable share of checking a 2,000-header message.
  if (bits === lastWork.bits) return lastWork.work;
  const { target, negative, overflow } = compactToTarget(bits);
  const work = negative || overflow || target === 0n ? 0n : TWO_256 / (target + 1n);
  lastWork = { bits, work };
  return work;
}
let lastWork = { bits: -1, work: 0n };

/** A 32-byte hash in internal (little-endian) order read as the 256-bit number it stands for. */
export function hashToBigInt(hash: Uint8Array): bigint {
  if (hash.length === 32) {
    // Four 64-bit words instead of 32 bytes: a few bigint steps per header check, not 64.
    const v = new DataView(hash.buffer, hash.byteOffset, 32);
    return (
      (v.getBigUint64(24, true) << 192n) |
      (v.getBigUint64(16, true) << 128n) |
      (v.getBigUint64(8, true) << 64n) |
      v.getBigUint64(0, true)
    );
  }
  let n = 0n;
  for (let i = hash.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(hash[i]);
  return n;
}

/** True when `bits` is a valid target within the network's limit and the hash meets it. */
export function checkProofOfWork(hash: Uint8Array, bits: number, params: ChainParams): boolean {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n || target > params.powLimit) return false;
  return hashToBigInt(hash) <= target;
}

// MuHash3072, the multiset hash of Bitcoin Core's crypto/muhash.cpp (gettxoutsetinfo "muhash",
// coinstatsindex): an element is SHA-256 of its bytes expanded by ChaCha20 (that digest as the
// key, nonce and counter zero) to a 3,072-bit little-endian number; the set is the product of
// its elements modulo the prime 2^3072 - 1103717; removing divides. The digest is SHA-256 of the
// 384-byte little-endian quotient numerator / denominator. Order does not matter, so a set
// reached two ways (a reorg away and back, a node synced from another) hashes the same.
// Owns only the arithmetic: BigInt with the modulus's special form for the reduction (no
// library keeps Core's byte layout; node:crypto gives SHA-256 and ChaCha20). Never fails.
import { createCipheriv, createHash } from 'node:crypto';

export const MUHASH_BYTES = 384;
const BITS = 3072n;
const C = 1103717n;
export const MUHASH_PRIME = (1n << BITS) - C;
const MASK = (1n << BITS) - 1n;
const ZEROS = new Uint8Array(MUHASH_BYTES);
const IV = new Uint8Array(16); // 32-bit block counter 0, 96-bit nonce 0

/** Little-endian bytes to a number. */
export function fromLE(b: Uint8Array): bigint {
  return BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));
}

/** A number below 2^3072 as 384 little-endian bytes. */
export function toLE(n: bigint): Uint8Array {
  const hex = n.toString(16).padStart(MUHASH_BYTES * 2, '0');
  return Uint8Array.from(Buffer.from(hex, 'hex').reverse());
}

/** x mod p for 0 <= x < 2^6144, using 2^3072 = C (mod p). */
function reduce(x: bigint): bigint {
  while (x >> BITS !== 0n) x = (x & MASK) + (x >> BITS) * C;
  return x >= MUHASH_PRIME ? x - MUHASH_PRIME : x;
}

function mulMod(a: bigint, b: bigint): bigint {
  return reduce(a * b);
}

/** a^-1 mod p (extended Euclid; a is not a multiple of p). */
function inverse(a: bigint): bigint {
  let [r0, r1] = [MUHASH_PRIME, reduce(a)];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return t0 < 0n ? t0 + MUHASH_PRIME : t0;
}

/** Core's ToNum3072: the element a byte string stands for (not reduced, as Core's). */
export function muhashElement(data: Uint8Array): bigint {
  const key = createHash('sha256').update(data).digest();
  const stream = createCipheriv('chacha20', key, IV).update(ZEROS);
  return fromLE(stream);
}

export class MuHash3072 {
  /** Kept reduced below the prime. */
  private num = 1n;
  private den = 1n;

  insert(data: Uint8Array): this {
    this.num = mulMod(this.num, muhashElement(data));
    return this;
  }

  remove(data: Uint8Array): this {
    this.den = mulMod(this.den, muhashElement(data));
    return this;
  }

  clone(): MuHash3072 {
    const m = new MuHash3072();
    m.num = this.num;
    m.den = this.den;
    return m;
  }

  /** Adds every element of another set (Core's operator*=). */
  combine(other: MuHash3072): this {
    this.num = mulMod(this.num, other.num);
    this.den = mulMod(this.den, other.den);
    return this;
  }

  /** Removes every element of another set (Core's operator/=). */
  divide(other: MuHash3072): this {
    this.num = mulMod(this.num, other.den);
    this.den = mulMod(this.den, other.num);
    return this;
  }

  /** The 32-byte digest (internal order; Core prints it reversed). */
  digest(): Uint8Array {
    const q = this.den === 1n ? this.num : mulMod(this.num, inverse(this.den));
    return new Uint8Array(createHash('sha256').update(toLE(q)).digest());
  }

  /** numerator || denominator, 384 little-endian bytes each (Core's serialization). */
  serialize(): Uint8Array {
    const out = new Uint8Array(MUHASH_BYTES * 2);
    out.set(toLE(this.num), 0);
    out.set(toLE(this.den), MUHASH_BYTES);
    return out;
  }

  /** Reads `serialize()`'s 768 bytes; a number at or above the prime is reduced (Core's overflow case). */
  static deserialize(b: Uint8Array): MuHash3072 {
    if (b.length !== MUHASH_BYTES * 2) throw new Error(`MuHash state of ${b.length} bytes, expected 768`);
    const m = new MuHash3072();
    m.num = reduce(fromLE(b.subarray(0, MUHASH_BYTES)));
    m.den = reduce(fromLE(b.subarray(MUHASH_BYTES)));
    return m;
  }
}

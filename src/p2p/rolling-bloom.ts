// A rolling Bloom filter: "was this key among roughly the last N inserted?" in fixed memory.
// Owns: Bitcoin Core's CRollingBloomFilter contract (N recent entries, false positives at about
// the given rate, memory fixed (allocated at the first insert), no false negative among the last N/2).
// Built as two generations of plain Bloom filters of N/2 entries each: inserts go to the current
// one; when it is full the older one is cleared and the two swap, so the filter remembers between
// N/2 and N of the latest keys. Used for Core's m_recent_rejects (120,000 entries, reset on a new
// tip) and each peer's m_tx_inventory_known_filter (50,000). Keys are hashes' bytes (no hex
// conversion per lookup); a random tweak per filter, as Core's, keeps a peer from aiming
// collisions at one node.
// Never throws after construction.
import { randomBytes } from 'node:crypto';

/** MurmurHash3 (x86, 32-bit) of `n` bytes of `data` from `at`, the hash Core's Bloom filters use. */
function murmur3(seed: number, data: Uint8Array, at: number, n: number): number {
  let h = seed >>> 0;
  const body = at + (n & ~3);
  for (let i = at; i < body; i += 4) {
    h ^= mixK(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  let tail = 0;
  for (let i = at + n - 1; i >= body; i--) tail = (tail << 8) | data[i];
  if (n & 3) h ^= mixK(tail);
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

const EMPTY = new Uint32Array(0);

export class RollingBloom {
  // Allocated on the first add (a connection that never sends an inv costs nothing here).
  private current = EMPTY;
  private previous = EMPTY;
  private inCurrent = 0;
  private readonly perGeneration: number;
  private readonly bits: number;
  private readonly hashes: number;
  private readonly tweak: number;
  /** bits / 2^32. */
  private readonly scale: number;

  /** Remembers at least the last `entries / 2` keys and usually up to `entries`. */
  constructor(entries: number, fpRate = 0.000001, tweak = randomBytes(4).readUInt32LE(0)) {
    if (!(entries >= 2) || !(fpRate > 0 && fpRate < 1)) throw new RangeError('RollingBloom: bad parameters');
    this.perGeneration = Math.ceil(entries / 2);
    // Optimal size and number of hashes for a plain Bloom filter of perGeneration entries; both
    // generations are consulted, so each gets half the false-positive budget.
    const p = fpRate / 2;
    this.bits = Math.max(64, Math.ceil((-this.perGeneration * Math.log(p)) / (Math.LN2 * Math.LN2)));
    this.hashes = Math.max(1, Math.min(50, Math.round((this.bits / this.perGeneration) * Math.LN2)));
    this.tweak = tweak >>> 0;
    this.scale = this.bits / 2 ** 32;
  }

  /** Bytes the filter holds once used, fixed for its life (two generations of `bits`). */
  get memoryBytes(): number {
    return Math.ceil(this.bits / 32) * 8;
  }

  // Double hashing (Kirsch-Mitzenmacher): the k positions are a + i*b mod bits, computed where
  // used, so a lookup allocates nothing (an inv of 50,000 items is 50,000 lookups).
  private hashA = 0;
  private hashB = 0;

  private hash(key: Uint8Array, at: number, n: number): void {
    this.hashA = murmur3(this.tweak, key, at, n);
    this.hashB = murmur3(this.tweak ^ 0x9e3779b9, key, at, n) | 1;
  }

  /** Position i of the last hashed key: a 32-bit hash scaled onto [0, bits) by a multiplication
   * (Lemire's reduction), as a modulo of a number past 2^31 is a slow floating-point one. */
  private position(i: number): number {
    return Math.floor(((this.hashA + Math.imul(i, this.hashB)) >>> 0) * this.scale);
  }

  /** True when every position of the last hashed key is set in `f`. */
  private hasAll(f: Uint32Array): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const p = this.position(i);
      if ((f[p >>> 5] & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }

  /** Adds a key (a hash's bytes, internal order): `n` bytes of `key` from `at` (default all of it),
   * so a key inside a message (an inv entry) is added without a view of its own. */
  add(key: Uint8Array, at = 0, n = key.length - at): void {
    if (this.current === EMPTY) {
      this.current = new Uint32Array(Math.ceil(this.bits / 32));
      this.previous = new Uint32Array(this.current.length);
    }
    this.hash(key, at, n);
    if (this.hasAll(this.current)) return;
    if (this.inCurrent >= this.perGeneration) {
      const old = this.previous;
      old.fill(0);
      this.previous = this.current;
      this.current = old;
      this.inCurrent = 0;
    }
    for (let i = 0; i < this.hashes; i++) {
      const p = this.position(i);
      this.current[p >>> 5] |= 1 << (p & 31);
    }
    this.inCurrent++;
  }

  has(key: Uint8Array, at = 0, n = key.length - at): boolean {
    if (this.current === EMPTY) return false;
    this.hash(key, at, n);
    return this.hasAll(this.current) || this.hasAll(this.previous);
  }

  /** Forgets everything (Core resets m_recent_rejects on every new tip). */
  reset(): void {
    this.current.fill(0);
    this.previous.fill(0);
    this.inCurrent = 0;
  }
}

// A rolling Bloom filter: "was this key among roughly the last N inserted?" in fixed memory.
// Owns: Bitcoin Core's CRollingBloomFilter contract (N recent entries, false positives at about
// the given rate, memory fixed at construction, nothing ever a false negative among the last N/2).
// Built as two generations of plain Bloom filters of N/2 entries each: inserts go to the current
// one; when it is full the older one is cleared and the two swap, so the filter remembers between
// N/2 and N of the latest keys. Used for Core's m_recent_rejects (120,000 entries, reset on a new
// tip) and each peer's m_tx_inventory_known_filter (50,000). Keys are strings (hex hashes); a
// random tweak per filter, as Core's, keeps a peer from aiming collisions at one node.
// Never throws after construction.
import { randomBytes } from 'node:crypto';

/** MurmurHash3 (x86, 32-bit) of a string's UTF-16 code units, the hash Core's Bloom filters use. */
function murmur3(seed: number, s: string): number {
  let h = seed >>> 0;
  const n = s.length;
  for (let i = 0; i < n; i += 2) {
    let k = (s.charCodeAt(i) | ((i + 1 < n ? s.charCodeAt(i + 1) : 0) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class RollingBloom {
  private current: Uint32Array;
  private previous: Uint32Array;
  private inCurrent = 0;
  private readonly perGeneration: number;
  private readonly bits: number;
  private readonly hashes: number;
  private readonly tweak: number;

  /** Remembers at least the last `entries / 2` keys and usually up to `entries`. */
  constructor(entries: number, fpRate = 0.000001, tweak = randomBytes(4).readUInt32LE(0)) {
    if (!(entries >= 2) || !(fpRate > 0 && fpRate < 1)) throw new RangeError('RollingBloom: bad parameters');
    this.perGeneration = Math.ceil(entries / 2);
    // Optimal size and number of hashes for a plain Bloom filter of perGeneration entries; both
    // generations are consulted, so each gets half the false-positive budget.
    const p = fpRate / 2;
    this.bits = Math.max(64, Math.ceil((-this.perGeneration * Math.log(p)) / (Math.LN2 * Math.LN2)));
    this.hashes = Math.max(1, Math.min(50, Math.round((this.bits / this.perGeneration) * Math.LN2)));
    this.current = new Uint32Array(Math.ceil(this.bits / 32));
    this.previous = new Uint32Array(this.current.length);
    this.tweak = tweak >>> 0;
  }

  /** Bytes the filter holds, fixed for its life. */
  get memoryBytes(): number {
    return (this.current.length + this.previous.length) * 4;
  }

  private positions(key: string): number[] {
    // Double hashing (Kirsch-Mitzenmacher): k positions from two hashes.
    const a = murmur3(this.tweak, key);
    const b = murmur3(this.tweak ^ 0x9e3779b9, key) | 1;
    const out = new Array<number>(this.hashes);
    for (let i = 0; i < this.hashes; i++) out[i] = (a + Math.imul(i, b)) >>> 0;
    return out.map((x) => x % this.bits);
  }

  private static hasAll(f: Uint32Array, pos: number[]): boolean {
    for (const p of pos) if ((f[p >>> 5] & (1 << (p & 31))) === 0) return false;
    return true;
  }

  add(key: string): void {
    const pos = this.positions(key);
    if (RollingBloom.hasAll(this.current, pos)) return;
    if (this.inCurrent >= this.perGeneration) {
      const old = this.previous;
      old.fill(0);
      this.previous = this.current;
      this.current = old;
      this.inCurrent = 0;
    }
    for (const p of pos) this.current[p >>> 5] |= 1 << (p & 31);
    this.inCurrent++;
  }

  has(key: string): boolean {
    const pos = this.positions(key);
    return RollingBloom.hasAll(this.current, pos) || RollingBloom.hasAll(this.previous, pos);
  }

  /** Forgets everything (Core resets m_recent_rejects on every new tip). */
  reset(): void {
    this.current.fill(0);
    this.previous.fill(0);
    this.inCurrent = 0;
  }
}

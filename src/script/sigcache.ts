// A bounded cache of signatures already verified, so a transaction checked on mempool entry is
// not checked again when its block connects. Only successes are stored: a failure is cheap to
// reproduce and must never be remembered as a pass.
import { BoundedSet } from '../primitives/bounded.js';

/** Oldest-first eviction once `maxEntries` is reached. */
export class SigCache {
  private readonly entries: BoundedSet<string>;
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 100_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be >= 1');
    this.entries = new BoundedSet(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The sighash commits to the transaction, input and hash type, so (sighash, pubkey, sig) names
   * one verification exactly. A latin1 string of the raw bytes is the key: measured cheaper than
   * hashing the triple, and as collision-free (it is the bytes themselves).
   */
  static key(sighash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array): string {
    return (
      Buffer.from(sighash.buffer, sighash.byteOffset, sighash.length).toString('latin1') +
      Buffer.from(pubkey.buffer, pubkey.byteOffset, pubkey.length).toString('latin1') +
      '|' +
      Buffer.from(sig.buffer, sig.byteOffset, sig.length).toString('latin1')
    );
  }

  has(key: string): boolean {
    const hit = this.entries.has(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  add(key: string): void {
    this.entries.add(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

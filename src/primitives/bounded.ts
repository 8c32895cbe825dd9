// The one bounded set and bounded map of the node: whatever grows with what peers, miners or
// callers send (known inventory, recent rejects, signature and script caches, orphan blocks,
// Stratum jobs) is held in one of these, each call site naming its bound beside Core's.
// Eviction is by insertion order, oldest first, in O(1): a JavaScript Map/Set iterates in
// insertion order, so the first key is the oldest. Adding a key already present changes nothing
// in the order (a caller that wants it to count as new deletes it first).

function checkCap(cap: number): number {
  if (!Number.isInteger(cap) || cap < 0) throw new RangeError(`bound must be an integer >= 0, got ${cap}`);
  return cap;
}

/** A set holding at most `cap` keys; adding past the cap drops the oldest key. */
export class BoundedSet<K> {
  private readonly items = new Set<K>();
  readonly cap: number;
  constructor(cap: number) {
    this.cap = checkCap(cap);
  }
  get size(): number {
    return this.items.size;
  }
  has(k: K): boolean {
    return this.items.has(k);
  }
  /** Adds `k` (a no-op if present); past the cap the oldest key goes. A cap of 0 holds nothing. */
  add(k: K): void {
    if (this.items.has(k) || this.cap === 0) return;
    if (this.items.size >= this.cap) this.items.delete(this.items.values().next().value as K);
    this.items.add(k);
  }
  delete(k: K): boolean {
    return this.items.delete(k);
  }
  clear(): void {
    this.items.clear();
  }
  /** Oldest first. */
  values(): IterableIterator<K> {
    return this.items.values();
  }
}

/** A map holding at most `cap` entries; setting a new key past the cap drops the oldest entry. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  readonly cap: number;
  constructor(cap: number) {
    this.cap = checkCap(cap);
  }
  get size(): number {
    return this.map.size;
  }
  has(k: K): boolean {
    return this.map.has(k);
  }
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  /** Sets `k` (in place if present); a new key past the cap drops the oldest. A cap of 0 holds nothing. */
  set(k: K, v: V): void {
    if (this.map.has(k)) {
      this.map.set(k, v);
      return;
    }
    if (this.cap === 0) return;
    if (this.map.size >= this.cap) this.map.delete(this.map.keys().next().value as K);
    this.map.set(k, v);
  }
  delete(k: K): boolean {
    return this.map.delete(k);
  }
  clear(): void {
    this.map.clear();
  }
  /** Oldest first. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }
  values(): IterableIterator<V> {
    return this.map.values();
  }
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}

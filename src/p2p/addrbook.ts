// The address book, as Bitcoin Core's addrman: peers this node may dial, keyed by canonical
// WebSocket URL, filled from the network's seeds, operator addnodes, `addr` gossip and the listen
// URLs peers announce.
// Two tables of fixed size: "new" (1,024 buckets of 64, addresses heard of) and "tried" (256 of
// 64, addresses we connected to). An address's bucket is a hash, under a secret key kept in the
// file, of its network group (IPv4 /16, IPv6 /32) and, in "new", of the group of the peer that told
// us; its slot in the bucket is another keyed hash. So one source group reaches at most 64 of the
// 1,024 new buckets (4,096 slots), and an insert is O(1): a taken slot keeps the better entry
// (the old one goes only if Core's IsTerrible calls it so). A connection that completes moves the
// address to "tried" (Good); dial candidates come from tried or new at even odds, each accepted
// with Core's GetChance (fewer recent failures, more likely), never by sorting the book.
// Owns: the tables and the JSON file (rewritten whole on save: never more than the tables hold).
// Does not own: connections or bans. A missing or corrupt file starts an empty book (logged by
// the caller); a failed save throws to the caller.
// Core differences: one new bucket per address (Core allows up to 8 references), no
// test-before-evict for tried collisions (the older entry moves back to new at once).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256 } from '../crypto/hash.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { netGroup, normalizeUrl, parseEndpoint } from './netaddr.js';

export type AddrSource = 'seed' | 'manual' | 'addr' | 'announce';

export interface AddrEntry {
  url: string;
  source: AddrSource;
  /** Host of the peer that told us (empty: the address itself, as for seeds and addnodes). */
  from: string;
  /** In the tried table: we completed a connection to it. */
  tried: boolean;
  /** Unix ms: last time it was advertised or connected. */
  lastSeen: number;
  lastTry: number;
  lastSuccess: number;
  attempts: number;
}

/** Core's ADDRMAN_NEW_BUCKET_COUNT, ADDRMAN_TRIED_BUCKET_COUNT and ADDRMAN_BUCKET_SIZE. */
export const NEW_BUCKETS = 1024;
export const TRIED_BUCKETS = 256;
export const BUCKET_SIZE = 64;
/** Core's ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP and ADDRMAN_TRIED_BUCKETS_PER_GROUP. */
const NEW_BUCKETS_PER_SOURCE_GROUP = 64;
const TRIED_BUCKETS_PER_GROUP = 8;
const DAY = 86_400_000;
/** Core's IsTerrible constants: ADDRMAN_HORIZON 30 days, ADDRMAN_RETRIES 3, ADDRMAN_MAX_FAILURES
 * 10 within ADDRMAN_MIN_FAIL 7 days; an address tried in the last minute is never terrible. */
const HORIZON = 30 * DAY;
const RETRIES = 3;
const MAX_FAILURES = 10;
const MIN_FAIL = 7 * DAY;

const SOURCES: readonly AddrSource[] = ['seed', 'manual', 'addr', 'announce'];

interface Slot extends AddrEntry {
  /** bucket * BUCKET_SIZE + position in its table. */
  index: number;
  /** Position in its table's dense list (for O(1) random picks). */
  listIdx: number;
}

// A saved entry is used only when its URL is already canonical (the dialler hands it to
// WebSocket as is) and its numbers are real; times and counts default to 0 as in a new entry.
function readEntry(p: unknown): AddrEntry | null {
  if (p === null || typeof p !== 'object') return null;
  const o = p as Record<string, unknown>;
  // Port 0 is refused, so only a URL that carries its own port survives normalisation.
  if (typeof o.url !== 'string' || normalizeUrl(o.url, 0) !== o.url) return null;
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    url: o.url,
    source: SOURCES.includes(o.source as AddrSource) ? (o.source as AddrSource) : 'addr',
    from: typeof o.from === 'string' && o.from.length <= 255 ? o.from : '',
    tried: o.tried === true,
    lastSeen: num(o.lastSeen),
    lastTry: num(o.lastTry),
    lastSuccess: num(o.lastSuccess),
    attempts: Math.floor(num(o.attempts)),
  };
}

const publicEntry = (e: AddrEntry): AddrEntry => ({
  url: e.url,
  source: e.source,
  from: e.from,
  tried: e.tried,
  lastSeen: e.lastSeen,
  lastTry: e.lastTry,
  lastSuccess: e.lastSuccess,
  attempts: e.attempts,
});

/** Core's IsTerrible: an entry not worth keeping when another wants its slot. */
export function isTerrible(e: AddrEntry, now: number): boolean {
  if (e.lastTry > 0 && now - e.lastTry < 60_000) return false;
  if (e.lastSeen > now + 10 * 60_000) return true;
  if (e.lastSeen === 0 || now - e.lastSeen > HORIZON) return true;
  if (e.lastSuccess === 0 && e.attempts >= RETRIES) return true;
  if (now - e.lastSuccess > MIN_FAIL && e.attempts >= MAX_FAILURES) return true;
  return false;
}

/** Core's GetChance: relative odds of picking an entry (recent tries and failures lower them). */
function chance(e: AddrEntry, now: number): number {
  let c = 1;
  if (now - e.lastTry < 10 * 60_000) c *= 0.01;
  return c * 0.66 ** Math.min(e.attempts, 8);
}

export interface AddressBookOptions {
  file?: string;
  now?: () => number;
  /** The secret bucketing key (default: the file's, else random). */
  key?: Uint8Array;
}

export class AddressBook {
  private readonly entries = new Map<string, Slot>();
  private readonly newTable = new Array<Slot | undefined>(NEW_BUCKETS * BUCKET_SIZE);
  private readonly triedTable = new Array<Slot | undefined>(TRIED_BUCKETS * BUCKET_SIZE);
  private readonly newList: Slot[] = [];
  private readonly triedList: Slot[] = [];
  private key: Uint8Array;
  private readonly now: () => number;
  private dirty = false;

  constructor(private readonly opts: AddressBookOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.key = opts.key ?? randomBytes(32);
  }

  /** Loads the file if there is one; returns an error message for a corrupt file, else null. */
  load(): string | null {
    if (!this.opts.file) return null;
    let text: string;
    try {
      text = readFileSync(this.opts.file, 'utf8');
    } catch {
      return null;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      return `corrupt peers file: ${(e as Error).message}`;
    }
    const d = data as { version?: unknown; peers?: unknown; key?: unknown } | null;
    if ((d?.version !== 1 && d?.version !== 2) || !Array.isArray(d.peers)) return 'unrecognised peers file';
    // Version 1 had no tables: its entries are placed under a new key.
    if (!this.opts.key && typeof d.key === 'string' && /^[0-9a-f]{64}$/.test(d.key))
      this.key = hexToBytes(d.key);
    let skipped = 0;
    for (const p of d.peers as unknown[]) {
      const e = readEntry(p);
      if (e && !this.entries.has(e.url)) this.place(e);
      else skipped++;
    }
    return skipped > 0 ? `peers file: skipped ${skipped} malformed entries` : null;
  }

  /** Rewrites the file with what the tables hold (so it never outgrows them). */
  save(): void {
    if (!this.opts.file || !this.dirty) return;
    const peers = [...this.triedList, ...this.newList].map(publicEntry);
    writeFileAtomic(this.opts.file, JSON.stringify({ version: 2, key: bytesToHex(this.key), peers }));
    this.dirty = false;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries in the new and tried tables (Core's getaddrmaninfo). */
  counts(): { new: number; tried: number } {
    return { new: this.newList.length, tried: this.triedList.length };
  }

  get(url: string): AddrEntry | undefined {
    const e = this.entries.get(url);
    return e && publicEntry(e);
  }

  all(): AddrEntry[] {
    return [...this.triedList, ...this.newList].map(publicEntry);
  }

  /**
   * Hears of an address (from `from`, a peer's host; none for seeds and addnodes). Returns false
   * when its slot in the new table holds a better entry (the address is dropped, as Core does).
   */
  add(url: string, source: AddrSource, seenMs = this.now(), from = ''): boolean {
    const e = this.entries.get(url);
    if (e) {
      e.lastSeen = Math.max(e.lastSeen, Math.min(seenMs, this.now()));
      if (source === 'manual') e.source = source;
      this.dirty = true;
      return true;
    }
    const added = this.place({
      url,
      source,
      from,
      tried: false,
      lastSeen: seenMs,
      lastTry: 0,
      lastSuccess: 0,
      attempts: 0,
    });
    if (added) this.dirty = true;
    return added;
  }

  remove(url: string): void {
    const e = this.entries.get(url);
    if (!e) return;
    this.unlink(e);
    this.dirty = true;
  }

  attempt(url: string): void {
    const e = this.entries.get(url);
    if (!e) return;
    e.lastTry = this.now();
    e.attempts++;
    this.dirty = true;
  }

  /** A connection completed (Core's Good): the address moves to the tried table. */
  good(url: string): void {
    const e = this.entries.get(url);
    if (!e) return;
    e.lastSuccess = e.lastSeen = this.now();
    e.attempts = 0;
    this.dirty = true;
    if (e.tried) return;
    this.unlink(e);
    e.tried = true;
    const i = this.triedIndex(e);
    const old = this.triedTable[i];
    if (old) {
      // The older tried entry goes back to new (Core's MakeTried), unless its slot there is taken.
      this.unlink(old);
      old.tried = false;
      this.link(e, i);
      this.place(old);
    } else this.link(e, i);
  }

  /**
   * Up to `max` dial candidates: drawn at random from tried or new at even odds, skipping
   * `exclude` and any whose last try is more recent than a back-off growing with failed attempts,
   * each accepted with Core's GetChance and a factor growing 1.2x per refusal. The work is bounded
   * by `max`, not by the size of the book.
   */
  candidates(exclude: (url: string) => boolean, retryMs: number, max: number): string[] {
    const now = this.now();
    const out = new Set<string>();
    let factor = 1;
    const budget = 100 + 50 * max;
    for (let i = 0; i < budget && out.size < max; i++) {
      const fromTried = this.triedList.length > 0 && (this.newList.length === 0 || Math.random() < 0.5);
      const list = fromTried ? this.triedList : this.newList;
      if (list.length === 0) break;
      const e = list[Math.floor(Math.random() * list.length)];
      if (out.has(e.url) || exclude(e.url)) continue;
      const backoff = retryMs * 2 ** Math.min(e.attempts, 10);
      if (e.lastTry > 0 && now - e.lastTry < backoff) continue;
      if (Math.random() < factor * chance(e, now)) out.add(e.url);
      else factor *= 1.2;
    }
    return [...out];
  }

  /** A random sample for answering getaddr (terrible entries left out, as Core's GetAddr). */
  sample(max: number): AddrEntry[] {
    const now = this.now();
    const list = [...this.triedList, ...this.newList];
    const out: AddrEntry[] = [];
    // A partial Fisher-Yates shuffle: only as many swaps as entries taken or passed over.
    for (let i = 0; i < list.length && out.length < max; i++) {
      const j = i + Math.floor(Math.random() * (list.length - i));
      [list[i], list[j]] = [list[j], list[i]];
      if (!isTerrible(list[i], now) || list[i].source === 'seed' || list[i].source === 'manual')
        out.push(publicEntry(list[i]));
    }
    return out;
  }

  // ---- tables ----

  private hash(...parts: (string | number)[]): number {
    const text = new TextEncoder().encode(parts.join('\u0000'));
    const buf = new Uint8Array(this.key.length + text.length);
    buf.set(this.key);
    buf.set(text, this.key.length);
    const h = sha256(buf);
    return new DataView(h.buffer, h.byteOffset, 4).getUint32(0, true);
  }

  private static group(urlOrHost: string): string {
    const host = urlOrHost.includes('://') ? parseEndpoint(urlOrHost, 0)?.host : urlOrHost;
    return netGroup(host ?? urlOrHost);
  }

  /** Source hosts' groups and (group, source group) buckets seen lately: a flood of one peer's
   * addresses hashes each only once for its slot. Cleared when large (a cache, not state). */
  private readonly cache = new Map<string, string | number>();

  private cached<T extends string | number>(k: string, make: () => T): T {
    let v = this.cache.get(k) as T | undefined;
    if (v === undefined) {
      if (this.cache.size >= 4096) this.cache.clear();
      v = make();
      this.cache.set(k, v);
    }
    return v;
  }

  /** Core's GetNewBucket and GetBucketPosition. */
  private newIndex(e: AddrEntry): number {
    const group = AddressBook.group(e.url);
    const src = e.from ? this.cached(`g ${e.from}`, () => AddressBook.group(e.from)) : group;
    const bucket = this.cached(`b ${group} ${src}`, () => {
      const h1 = this.hash('new1', group, src) % NEW_BUCKETS_PER_SOURCE_GROUP;
      return this.hash('new2', src, h1) % NEW_BUCKETS;
    });
    return bucket * BUCKET_SIZE + (this.hash('pos', 'N', bucket, e.url) % BUCKET_SIZE);
  }

  /** Core's GetTriedBucket and GetBucketPosition. */
  private triedIndex(e: AddrEntry): number {
    const h1 = this.hash('tried1', e.url) % TRIED_BUCKETS_PER_GROUP;
    const bucket = this.hash('tried2', AddressBook.group(e.url), h1) % TRIED_BUCKETS;
    return bucket * BUCKET_SIZE + (this.hash('pos', 'K', bucket, e.url) % BUCKET_SIZE);
  }

  /** Puts an entry in its slot (tried if marked and free, else new); false when the slot keeps its holder. */
  private place(entry: AddrEntry): boolean {
    const e = entry as Slot;
    if (e.tried) {
      const i = this.triedIndex(e);
      if (!this.triedTable[i]) {
        this.link(e, i);
        return true;
      }
      e.tried = false;
    }
    const i = this.newIndex(e);
    const old = this.newTable[i];
    if (old) {
      // Seeds and addnodes the operator gave are never pushed out by gossip, and push it out.
      const given = (x: AddrEntry) => x.source === 'seed' || x.source === 'manual';
      if (given(old) || (!given(e) && !isTerrible(old, this.now()))) return false;
      this.unlink(old);
    }
    this.link(e, i);
    return true;
  }

  private link(e: Slot, index: number): void {
    const [table, list] = e.tried ? [this.triedTable, this.triedList] : [this.newTable, this.newList];
    e.index = index;
    e.listIdx = list.length;
    table[index] = e;
    list.push(e);
    this.entries.set(e.url, e);
  }

  private unlink(e: Slot): void {
    const [table, list] = e.tried ? [this.triedTable, this.triedList] : [this.newTable, this.newList];
    table[e.index] = undefined;
    const last = list.pop()!;
    if (last !== e) {
      list[e.listIdx] = last;
      last.listIdx = e.listIdx;
    }
    this.entries.delete(e.url);
  }
}

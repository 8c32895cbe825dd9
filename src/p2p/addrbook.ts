// The address book: peers this node may dial, keyed by canonical WebSocket URL, filled from the
// network's seeds, operator addnodes, `addr` gossip and the listen URLs peers announce.
// Owns: selection of dial candidates (fresh, not recently failed) and its JSON file.
// Does not own: connections or bans. A missing or corrupt file starts an empty book (logged by
// the caller); a failed save throws to the caller.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { normalizeUrl } from './netaddr.js';

export type AddrSource = 'seed' | 'manual' | 'addr' | 'announce';

export interface AddrEntry {
  url: string;
  source: AddrSource;
  /** Unix ms: last time it was advertised or connected. */
  lastSeen: number;
  lastTry: number;
  lastSuccess: number;
  attempts: number;
}

const SOURCES: readonly AddrSource[] = ['seed', 'manual', 'addr', 'announce'];

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
    lastSeen: num(o.lastSeen),
    lastTry: num(o.lastTry),
    lastSuccess: num(o.lastSuccess),
    attempts: Math.floor(num(o.attempts)),
  };
}

export interface AddressBookOptions {
  file?: string;
  maxEntries?: number;
  now?: () => number;
}

export class AddressBook {
  private readonly entries = new Map<string, AddrEntry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private dirty = false;

  constructor(private readonly opts: AddressBookOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.now = opts.now ?? Date.now;
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
    const peers = (data as { version?: unknown; peers?: unknown } | null)?.peers;
    if ((data as { version?: unknown } | null)?.version !== 1 || !Array.isArray(peers))
      return 'unrecognised peers file';
    let skipped = 0;
    for (const p of peers as unknown[]) {
      const e = readEntry(p);
      if (e) this.entries.set(e.url, e);
      else skipped++;
    }
    return skipped > 0 ? `peers file: skipped ${skipped} malformed entries` : null;
  }

  save(): void {
    if (!this.opts.file || !this.dirty) return;
    writeFileAtomic(
      this.opts.file,
      JSON.stringify({ version: 1, peers: [...this.entries.values()] }, null, 1),
    );
    this.dirty = false;
  }

  get size(): number {
    return this.entries.size;
  }

  get(url: string): AddrEntry | undefined {
    return this.entries.get(url);
  }

  all(): AddrEntry[] {
    return [...this.entries.values()];
  }

  add(url: string, source: AddrSource, seenMs = this.now()): void {
    const e = this.entries.get(url);
    if (e) {
      e.lastSeen = Math.max(e.lastSeen, Math.min(seenMs, this.now()));
      if (source === 'manual') e.source = source;
    } else {
      if (this.entries.size >= this.maxEntries) this.evict();
      this.entries.set(url, { url, source, lastSeen: seenMs, lastTry: 0, lastSuccess: 0, attempts: 0 });
    }
    this.dirty = true;
  }

  remove(url: string): void {
    if (this.entries.delete(url)) this.dirty = true;
  }

  attempt(url: string): void {
    const e = this.entries.get(url);
    if (!e) return;
    e.lastTry = this.now();
    e.attempts++;
    this.dirty = true;
  }

  good(url: string): void {
    const e = this.entries.get(url);
    if (!e) return;
    e.lastSuccess = e.lastSeen = this.now();
    e.attempts = 0;
    this.dirty = true;
  }

  /**
   * Dial candidates, best first: ones that worked before, then untried, skipping `exclude` and any
   * whose last try is more recent than a back-off growing with failed attempts.
   */
  candidates(exclude: (url: string) => boolean, retryMs: number, max: number): string[] {
    const now = this.now();
    const out: AddrEntry[] = [];
    for (const e of this.entries.values()) {
      if (exclude(e.url)) continue;
      const backoff = retryMs * 2 ** Math.min(e.attempts, 10);
      if (e.lastTry > 0 && now - e.lastTry < backoff) continue;
      out.push(e);
    }
    out.sort((a, b) => b.lastSuccess - a.lastSuccess || a.attempts - b.attempts || Math.random() - 0.5);
    return out.slice(0, max).map((e) => e.url);
  }

  /** A random sample for answering getaddr. */
  sample(max: number): AddrEntry[] {
    const list = [...this.entries.values()].filter((e) => e.attempts < 5);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list.slice(0, max);
  }

  private evict(): void {
    let worst: AddrEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.source === 'manual') continue;
      if (!worst || e.attempts - e.lastSeen / 1e12 > worst.attempts - worst.lastSeen / 1e12) worst = e;
    }
    if (worst) this.entries.delete(worst.url);
  }
}

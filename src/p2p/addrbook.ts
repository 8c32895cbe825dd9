// The address book: peers this node may dial, keyed by canonical WebSocket URL, filled from the
// network's seeds, operator addnodes, `addr` gossip and the listen URLs peers announce.
// Owns: selection of dial candidates (fresh, not recently failed) and its JSON file.
// Does not own: connections or bans. A missing or corrupt file starts an empty book (logged by
// the caller); a failed save throws to the caller.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

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
    try {
      const data = JSON.parse(text) as { version?: number; peers?: unknown };
      if (data.version !== 1 || !Array.isArray(data.peers)) return 'unrecognised peers file';
      for (const p of data.peers as Partial<AddrEntry>[]) {
        if (typeof p?.url !== 'string') continue;
        this.entries.set(p.url, {
          url: p.url,
          source: p.source ?? 'addr',
          lastSeen: Number(p.lastSeen) || 0,
          lastTry: Number(p.lastTry) || 0,
          lastSuccess: Number(p.lastSuccess) || 0,
          attempts: Number(p.attempts) || 0,
        });
      }
      return null;
    } catch (e) {
      return `corrupt peers file: ${(e as Error).message}`;
    }
  }

  save(): void {
    if (!this.opts.file || !this.dirty) return;
    const tmp = `${this.opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, peers: [...this.entries.values()] }, null, 1));
    renameSync(tmp, this.opts.file);
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

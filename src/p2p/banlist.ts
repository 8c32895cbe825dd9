// Bans: hosts (IP addresses as the socket reports them, or host names as dialled) refused for a
// while, set by misbehaviour scoring or by an operator (setban). Persisted as JSON when given a
// file. A missing file is an empty list; a corrupt one is reported by load() and ignored.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface BanEntry {
  address: string;
  /** Unix ms. */
  createdAt: number;
  bannedUntil: number;
  reason: string;
}

export class BanList {
  private readonly bans = new Map<string, BanEntry>();
  constructor(
    private readonly file?: string,
    private readonly now: () => number = Date.now,
  ) {}

  load(): string | null {
    if (!this.file) return null;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return null;
    }
    try {
      const list = JSON.parse(text) as BanEntry[];
      if (!Array.isArray(list)) return 'unrecognised ban list file';
      for (const b of list) if (typeof b?.address === 'string') this.bans.set(normalizeHost(b.address), b);
      return null;
    } catch (e) {
      return `corrupt ban list file: ${(e as Error).message}`;
    }
  }

  private save(): void {
    if (!this.file) return;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.list(), null, 1));
    renameSync(`${this.file}.tmp`, this.file);
  }

  ban(address: string, durationMs: number, reason: string): void {
    const now = this.now();
    this.bans.set(normalizeHost(address), {
      address: normalizeHost(address),
      createdAt: now,
      bannedUntil: now + durationMs,
      reason,
    });
    this.save();
  }

  unban(address: string): boolean {
    const had = this.bans.delete(normalizeHost(address));
    if (had) this.save();
    return had;
  }

  isBanned(address: string): boolean {
    const key = normalizeHost(address);
    const b = this.bans.get(key);
    if (!b) return false;
    if (b.bannedUntil > this.now()) return true;
    this.bans.delete(key);
    return false;
  }

  list(): BanEntry[] {
    const now = this.now();
    return [...this.bans.values()].filter((b) => b.bannedUntil > now);
  }

  clear(): void {
    this.bans.clear();
    this.save();
  }
}

/** Sockets report IPv4 peers of a dual-stack listener as ::ffff:a.b.c.d. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h.startsWith('::ffff:') && h.includes('.') ? h.slice(7) : h;
}

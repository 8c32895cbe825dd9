// Bans: hosts (IP addresses as the socket reports them, or host names as dialled) and IP subnets
// (an operator's setban 10.0.0.0/8) refused for a while, set by misbehaviour scoring or by an
// operator. Persisted as JSON when given a file. A missing file is an empty list; a corrupt one is
// reported by load() and ignored.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { bytesToIp, ipToBytes } from './netaddr.js';

export interface BanEntry {
  address: string;
  /** Unix ms. */
  createdAt: number;
  bannedUntil: number;
  reason: string;
}

// Times must be numbers: a string bannedUntil would compare with now by JavaScript's coercion.
function readBan(b: unknown): BanEntry | null {
  if (b === null || typeof b !== 'object') return null;
  const o = b as Record<string, unknown>;
  const time = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (typeof o.address !== 'string' || o.address === '' || !time(o.bannedUntil)) return null;
  return {
    address: normalizeHost(o.address),
    createdAt: time(o.createdAt) ? o.createdAt : 0,
    bannedUntil: o.bannedUntil,
    reason: typeof o.reason === 'string' ? o.reason : '',
  };
}

export class BanList {
  private readonly bans = new Map<string, BanEntry>();
  private saveFailed = false;
  constructor(
    private readonly file?: string,
    private readonly now: () => number = Date.now,
    /** Told once when banlist.json cannot be written (a full disk), until a write works again. */
    private readonly onSaveFailed?: (err: unknown) => void,
  ) {}

  load(): string | null {
    if (!this.file) return null;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return null;
    }
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (e) {
      return `corrupt ban list file: ${(e as Error).message}`;
    }
    if (!Array.isArray(list)) return 'unrecognised ban list file';
    let skipped = 0;
    for (const b of list as unknown[]) {
      const e = readBan(b);
      if (e) this.bans.set(e.address, e);
      else skipped++;
    }
    return skipped > 0 ? `ban list file: skipped ${skipped} malformed entries` : null;
  }

  /** A ban holds in memory whether or not the file could be written: a failed write (a full
   * disk) is told once and the node goes on, the file keeping its last whole version. */
  private save(): void {
    if (!this.file) return;
    try {
      writeFileAtomic(this.file, JSON.stringify(this.list(), null, 1));
      this.saveFailed = false;
    } catch (err) {
      if (!this.saveFailed) this.onSaveFailed?.(err);
      this.saveFailed = true;
    }
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

  /** True when the host is banned itself or lies in a banned subnet. */
  isBanned(address: string): boolean {
    const key = normalizeHost(address);
    const now = this.now();
    const b = this.bans.get(key);
    if (b && b.bannedUntil > now) return true;
    if (b) this.bans.delete(key);
    if (this.subnets === 0) return false;
    const ip = ipToBytes(key);
    if (!ip) return false;
    for (const e of this.bans.values()) {
      const net = e.address.includes('/') ? parseSubnet(e.address) : null;
      if (net && e.bannedUntil > now && inSubnet(ip, net)) return true;
    }
    return false;
  }

  /** Whether this exact entry (a host, or a subnet in canonical form) is banned now. */
  has(address: string): boolean {
    const b = this.bans.get(normalizeHost(address));
    return b !== undefined && b.bannedUntil > this.now();
  }

  private get subnets(): number {
    let n = 0;
    for (const k of this.bans.keys()) if (k.includes('/')) n++;
    return n;
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

export interface Subnet {
  /** 16 bytes, IPv4 mapped into ::ffff:0:0/96, host bits cleared. */
  bytes: Uint8Array;
  /** Prefix length over the 16-byte form (IPv4 /24 is 120). */
  bits: number;
  /** The key bans use: a bare address for a single host, else `network/prefix` as Core prints it. */
  key: string;
}

/**
 * An IP address or subnet as Core's setban takes it: `1.2.3.4`, `1.2.3.0/24`,
 * `1.2.3.0/255.255.255.0`, `2001:db8::/32`. Null for anything else (host names included).
 */
export function parseSubnet(text: string): Subnet | null {
  const [addr, suffix, extra] = normalizeHost(text.trim()).split('/');
  if (extra !== undefined) return null;
  const ip = ipToBytes(addr);
  if (!ip) return null;
  const v4 = !addr.includes(':');
  const width = v4 ? 32 : 128;
  let prefix = width;
  if (suffix !== undefined) {
    if (/^\d{1,3}$/.test(suffix)) prefix = Number(suffix);
    else if (v4 && ipToBytes(suffix) && !suffix.includes(':')) {
      const mask = ipToBytes(suffix)!.subarray(12);
      const bin = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
      if (!/^1*0*$/.test(bin)) return null;
      prefix = bin.indexOf('0') < 0 ? 32 : bin.indexOf('0');
    } else return null;
    if (prefix > width) return null;
  }
  const bits = prefix + (128 - width);
  const bytes = ip.slice();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  const base = bytesToIp(bytes);
  return { bytes, bits, key: prefix === width ? base : `${base}/${prefix}` };
}

/** True when `host` is an IP address inside `net`. */
export function subnetContains(net: Subnet, host: string): boolean {
  const ip = ipToBytes(normalizeHost(host));
  return ip !== null && inSubnet(ip, net);
}

function inSubnet(ip: Uint8Array, net: Subnet): boolean {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, net.bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((ip[i] & mask) !== net.bytes[i]) return false;
  }
  return true;
}

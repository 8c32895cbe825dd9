// Peer addresses: WebSocket URLs as the address book and dialler use them, and the 16-byte
// IP + port form Bitcoin's `addr` and `version` payloads carry on the wire.
// Owns: URL normalisation, IPv4/IPv6 text <-> bytes. Fails by returning null for anything that is
// not a ws:// or wss:// URL (or host:port) it can dial; never throws on input from peers.

export interface Endpoint {
  /** IP literal or host name, IPv6 without brackets. */
  host: string;
  port: number;
  secure: boolean;
}

/**
 * Accepts `ws://host:port`, `wss://host:port`, `host:port` or a bare `host` (default port), and
 * returns the canonical URL the address book keys on, or null when it is not dialable.
 */
export function normalizeUrl(input: string, defaultPort: number): string | null {
  const ep = parseEndpoint(input, defaultPort);
  return ep ? endpointToUrl(ep) : null;
}

export function parseEndpoint(input: string, defaultPort: number): Endpoint | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > 512) return null;
  const text = /^[a-z]+:\/\//i.test(input) ? input : `ws://${input}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return null;
  if (u.username || u.password || u.hostname === '') return null;
  const secure = u.protocol === 'wss:';
  // URL drops a port equal to the scheme's default; an explicit port in the text must survive.
  const explicit = /^[a-z]+:\/\/(\[[^\]]*\]|[^/:?#]*):(\d+)/i.exec(text);
  const port = explicit ? Number(explicit[2]) : u.port ? Number(u.port) : defaultPort;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  let host = u.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port, secure };
}

export function endpointToUrl(ep: Endpoint): string {
  const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
  return `${ep.secure ? 'wss' : 'ws'}://${host}:${ep.port}`;
}

/** 16-byte form (IPv4 mapped into ::ffff:0:0/96), or null when `host` is not an IP literal. */
export function ipToBytes(host: string): Uint8Array | null {
  const v4 = parseIPv4(host);
  if (v4) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  return parseIPv6(host);
}

export function bytesToIp(b: Uint8Array): string {
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9]\d{0,2})$/.test(parts[i])) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIPv4(it);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

function v4Of(b: Uint8Array): Uint8Array | null {
  if (b[10] !== 0xff || b[11] !== 0xff) return null;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return null;
  return b.subarray(12);
}

/** Loopback (127/8, ::1) or the name localhost: Core's IsLocal. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const b = ipToBytes(host);
  if (!b) return false;
  const v4 = v4Of(b);
  if (v4) return v4[0] === 127;
  return b.subarray(0, 15).every((x) => x === 0) && b[15] === 1;
}

/**
 * Whether an IP may be dialled from gossip, as Core's CNetAddr::IsRoutable: not unspecified, loopback,
 * private (RFC1918 10/8, 172.16/12, 192.168/16), shared (RFC6598 100.64/10), link-local (169.254/16,
 * fe80::/10), benchmarking (198.18/15), documentation (192.0.2/24, 198.51.100/24, 203.0.113/24,
 * 2001:db8::/32), unique-local (fc00::/7), multicast or reserved (224/3). A name is not an IP: false.
 */
export function isRoutable(host: string): boolean {
  const b = ipToBytes(host);
  if (!b) return false;
  const v4 = v4Of(b);
  if (v4) {
    const [a, c, d] = v4;
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 100 && c >= 64 && c <= 127) ||
      (a === 169 && c === 254) ||
      (a === 172 && c >= 16 && c <= 31) ||
      (a === 192 && c === 168) ||
      (a === 198 && (c === 18 || c === 19)) ||
      (a === 192 && c === 0 && d === 2) ||
      (a === 198 && c === 51 && d === 100) ||
      (a === 203 && c === 0 && d === 113)
    );
  }
  if (b.subarray(0, 15).every((x) => x === 0)) return false; // :: and ::1
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return false; // fe80::/10
  if ((b[0] & 0xfe) === 0xfc) return false; // fc00::/7
  if (b[0] === 0xff) return false; // multicast
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return false; // 2001:db8::/32
  return true;
}

/**
 * The network group of a host, as Core's GetGroup (without its ASN map): IPv4 /16, IPv6 /32, one
 * group for all loopback and one for all other unroutable addresses; a name is its own group.
 * Eviction and the address book's buckets spread peers over groups.
 */
export function netGroup(host: string): string {
  if (isLoopback(host)) return 'local';
  const b = ipToBytes(host);
  if (!b) return `name:${host.toLowerCase()}`;
  if (!isRoutable(host)) return 'unroutable';
  const v4 = v4Of(b);
  if (v4) return `ipv4:${v4[0]}.${v4[1]}`;
  return `ipv6:${[...b.subarray(0, 4)].join('.')}`;
}

// Address gossip: answers getaddr from the address book and takes `addr` messages into it,
// relaying fresh addresses on to two other peers as Core does; rate-limited per peer and never
// taking unroutable addresses (Core's IsRoutable) unless configured to.
// Owns: which addresses are relayed (once each). Does not own: the address book (addrbook.ts) nor
// dialling (connman.ts).
import type { AddressBook } from './addrbook.js';
import type { ConnMan } from './connman.js';
import { MAX_ADDR, NODE_NETWORK, type TimedNetAddr } from './messages.js';
import { endpointToUrl, ipToBytes, isRoutable, parseEndpoint } from './netaddr.js';
import type { Peer } from './peer.js';
import type { P2PNetworkParams } from './ports.js';

export class AddrGossip {
  private readonly relayedAddrs = new Set<string>();

  constructor(
    private readonly params: P2PNetworkParams,
    private readonly book: AddressBook,
    private readonly conn: ConnMan,
    /** Keep unroutable addresses too (P2PNodeOptions.allowLocalAddrs). */
    private readonly allowLocal = false,
  ) {}

  onGetAddr(peer: Peer): void {
    // As Core: only inbound peers are answered, once, so an outbound peer cannot map our book.
    if (!peer.inbound || peer.getaddrAnswered) return;
    peer.getaddrAnswered = true;
    const addrs: TimedNetAddr[] = [];
    for (const e of this.book.sample(MAX_ADDR * 2)) {
      const a = this.toNetAddr(e.url, e.lastSeen);
      if (a && e.url !== peer.url) addrs.push(a);
      if (addrs.length >= MAX_ADDR) break;
    }
    if (addrs.length > 0) peer.send({ command: 'addr', addrs });
  }

  private toNetAddr(url: string, seenMs: number): TimedNetAddr | null {
    const ep = parseEndpoint(url, this.params.defaultPort);
    if (!ep || ep.secure || !ipToBytes(ep.host)) return null;
    return { time: Math.floor(seenMs / 1000), services: NODE_NETWORK, host: ep.host, port: ep.port };
  }

  onAddr(peer: Peer, addrs: TimedNetAddr[]): void {
    const now = Date.now();
    const fresh: TimedNetAddr[] = [];
    // As Core: at most ADDR_RATE_PER_SECOND addresses per second per peer are processed (a token
    // bucket, topped up by our getaddr); the rest are dropped uncounted against the peer.
    peer.refillAddrTokens(now);
    for (const a of addrs) {
      if (peer.addrTokens < 1) {
        peer.addrRateLimited++;
        continue;
      }
      peer.addrTokens--;
      peer.addrProcessed++;
      if (a.port === 0 || a.host === '0.0.0.0' || a.host === '::') continue;
      // Loopback, private, link-local and other unroutable addresses are neither stored nor relayed.
      if (!this.allowLocal && !isRoutable(a.host)) continue;
      const url = endpointToUrl({ host: a.host, port: a.port, secure: false });
      peer.knownAddr.add(url);
      if (url === this.conn.url) continue;
      // A time in the future or before 1970+ is replaced, as Core does, by "5 days ago".
      const seen = a.time * 1000 > now + 600_000 || a.time === 0 ? now - 5 * 86_400_000 : a.time * 1000;
      this.book.add(url, 'addr', seen, peer.host);
      if (addrs.length <= 10 && now - seen < 600_000 && !this.relayedAddrs.has(url)) fresh.push(a);
    }
    if (fresh.length === 0) return;
    for (const a of fresh)
      this.relayedAddrs.add(endpointToUrl({ host: a.host, port: a.port, secure: false }));
    if (this.relayedAddrs.size > 10_000) this.relayedAddrs.clear();
    const others = this.conn.readyPeers().filter((p) => p !== peer);
    for (let i = 0; i < 2 && others.length > 0; i++) {
      const p = others.splice(Math.floor(Math.random() * others.length), 1)[0];
      const send = fresh.filter(
        (a) => !p.knownAddr.has(endpointToUrl({ host: a.host, port: a.port, secure: false })),
      );
      if (send.length > 0) p.send({ command: 'addr', addrs: send });
    }
  }
}

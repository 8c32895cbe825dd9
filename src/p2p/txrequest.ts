// Which transactions to ask which peer for: a bounded form of Bitcoin Core's TxRequestTracker.
// Owns: per-peer announcements (txids a peer offered and we do not have), the requests in flight
// and their expiry. Does not own: whether we want a transaction (the caller filters out what the
// pool has or recently rejected) nor sending (the caller sends the getdata it is handed).
// Bounds, as Core's: MAX_PEER_TX_ANNOUNCEMENTS = 5,000 pending announcements per peer (more are
// ignored), MAX_PEER_TX_REQUEST_IN_FLIGHT = 100 requests in flight per peer, and one request at a
// time per txid across all peers; a txid announced by several peers is asked of the next one when
// the first answers notfound, disconnects or times out. Memory is O(peers x 5,000). Never throws.

/** Core's MAX_PEER_TX_ANNOUNCEMENTS. */
export const MAX_PEER_TX_ANNOUNCEMENTS = 5_000;
/** Core's MAX_PEER_TX_REQUEST_IN_FLIGHT. */
export const MAX_PEER_TX_REQUEST_IN_FLIGHT = 100;

interface Request {
  peer: number;
  at: number;
}

export class TxRequestTracker {
  /** peer -> txids it announced that are not yet requested of it (insertion order = FIFO). */
  private readonly announced = new Map<number, Set<string>>();
  /** peer -> txids requested of it. */
  private readonly inFlightBy = new Map<number, Set<string>>();
  /** txid -> the one outstanding request for it. */
  private readonly requests = new Map<string, Request>();

  constructor(
    private readonly maxAnnouncements = MAX_PEER_TX_ANNOUNCEMENTS,
    private readonly maxInFlight = MAX_PEER_TX_REQUEST_IN_FLIGHT,
  ) {}

  /** Pending announcements plus requests of `peer` (what counts against its 5,000). */
  count(peer: number): number {
    return (this.announced.get(peer)?.size ?? 0) + (this.inFlightBy.get(peer)?.size ?? 0);
  }

  inFlight(peer: number): number {
    return this.inFlightBy.get(peer)?.size ?? 0;
  }

  /** True when the peer may not announce more (its further announcements are dropped unread). */
  full(peer: number): boolean {
    return this.count(peer) >= this.maxAnnouncements;
  }

  /** Records that `peer` offers txid `k`; false when ignored (already known from it, or full). */
  announce(peer: number, k: string): boolean {
    if (this.requests.get(k)?.peer === peer || this.full(peer)) return false;
    let set = this.announced.get(peer);
    if (!set) this.announced.set(peer, (set = new Set()));
    if (set.has(k)) return false;
    set.add(k);
    return true;
  }

  /**
   * Txids to request of `peer` now (oldest announcement first), marking them in flight: at most
   * up to its in-flight cap, skipping txids another peer is already being asked for.
   */
  take(peer: number, now: number): string[] {
    const set = this.announced.get(peer);
    if (!set) return [];
    let flying = this.inFlightBy.get(peer);
    const out: string[] = [];
    for (const k of set) {
      if ((flying?.size ?? 0) >= this.maxInFlight) break;
      if (this.requests.has(k)) continue;
      set.delete(k);
      this.requests.set(k, { peer, at: now });
      if (!flying) this.inFlightBy.set(peer, (flying = new Set()));
      flying.add(k);
      out.push(k);
    }
    if (set.size === 0) this.announced.delete(peer);
    return out;
  }

  /** True when `k` was requested of `peer` (a tx nobody asked for is unrequested). */
  requestedOf(peer: number, k: string): boolean {
    return this.requests.get(k)?.peer === peer;
  }

  /** The transaction arrived, or is no longer wanted (in the pool, rejected): forget it everywhere. */
  forget(k: string): void {
    const r = this.requests.get(k);
    if (r) {
      this.requests.delete(k);
      this.dropInFlight(r.peer, k);
    }
    for (const [peer, set] of this.announced) {
      if (set.delete(k) && set.size === 0) this.announced.delete(peer);
    }
  }

  /** `peer` answered notfound: its request ends and another announcer may be asked. */
  notFound(peer: number, k: string): void {
    if (this.requests.get(k)?.peer !== peer) return;
    this.requests.delete(k);
    this.dropInFlight(peer, k);
  }

  /** A peer left: its announcements and requests go; its txids become askable of others. */
  dropPeer(peer: number): void {
    this.announced.delete(peer);
    for (const k of this.inFlightBy.get(peer) ?? []) this.requests.delete(k);
    this.inFlightBy.delete(peer);
  }

  /** Ends requests older than `timeoutMs`; returns the peers that now have room to be asked again. */
  expire(now: number, timeoutMs: number): void {
    for (const [k, r] of this.requests) {
      if (now - r.at <= timeoutMs) continue;
      this.requests.delete(k);
      this.dropInFlight(r.peer, k);
    }
  }

  /** Peers with announcements waiting (so the caller can take() for them after an expiry). */
  peersWaiting(): number[] {
    return [...this.announced.keys()];
  }

  /** Total entries held, for tests and metrics. */
  size(): number {
    let n = this.requests.size;
    for (const s of this.announced.values()) n += s.size;
    return n;
  }

  private dropInFlight(peer: number, k: string): void {
    const f = this.inFlightBy.get(peer);
    if (f && f.delete(k) && f.size === 0) this.inFlightBy.delete(peer);
  }
}

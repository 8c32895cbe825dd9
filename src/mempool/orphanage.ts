// Orphan transactions: ones whose inputs are neither confirmed nor in the pool, held a while so they
// can enter once a parent arrives (Bitcoin Core's TxOrphanage). Owns which peer gave each orphan,
// the bounds below, an index by spent outpoint (a parent's children are found from its outputs, no
// scan of all orphans), expiry, and erasing what a peer that left gave or what a block settles.
// Does not own validation (the pool tries an orphan again, under its acceptance lock) nor asking
// for parents (p2p/relay.ts). A peer is an opaque number (p2p's peer id).
// Bounds beside Core's:
// - total: maxOrphans transactions (default 100: DEFAULT_MAX_ORPHAN_TRANSACTIONS, -maxorphantx);
//   past it, the oldest orphan of the peer using the most weight goes (Core v29 evicts one at
//   random, which lets a flooder push out honest peers' orphans; v30 evicts from the peer with the
//   highest usage, as here);
// - per peer: 404,000 weight units (Core v30's DEFAULT_RESERVED_ORPHAN_WEIGHT_PER_PEER; v29 counts
//   each peer's usage, m_total_usage, but bounds only the total count); past it the peer's own
//   oldest orphans go first, so one peer cannot hold more than ~101 kB;
// - one orphan: at most 400,000 weight units (Core's MAX_STANDARD_TX_WEIGHT; Tally's transactions
//   carry no witness, so weight is 4 x size: 100,000 bytes);
// - age: 20 minutes (ORPHAN_TX_EXPIRE_TIME), swept at most every 5 (ORPHAN_TX_EXPIRE_INTERVAL).
// Memory: at most 100 x 100 kB plus the indexes. Never throws.
import { bytesToHex } from '../primitives/bytes.js';
import { OutPoint, type Tx } from '../primitives/tx.js';

/** Core's DEFAULT_MAX_ORPHAN_TRANSACTIONS (-maxorphantx). */
export const DEFAULT_MAX_ORPHAN_TRANSACTIONS = 100;
/** Core's ORPHAN_TX_EXPIRE_TIME, seconds. */
export const ORPHAN_TX_EXPIRE_TIME = 20 * 60;
/** Core's ORPHAN_TX_EXPIRE_INTERVAL, seconds. */
export const ORPHAN_TX_EXPIRE_INTERVAL = 5 * 60;
/** Core's MAX_STANDARD_TX_WEIGHT: a larger orphan is not kept. */
export const MAX_ORPHAN_WEIGHT = 400_000;
/** Core v30's DEFAULT_RESERVED_ORPHAN_WEIGHT_PER_PEER: what one peer's orphans may weigh. */
export const MAX_ORPHAN_WEIGHT_PER_PEER = 404_000;

export interface Orphan {
  readonly tx: Tx;
  /** Internal-order txid hex (as Tx.txid()). */
  readonly txid: string;
  /** 4 x size (no witness). */
  readonly weight: number;
  /** Seconds since the epoch when it was first kept. */
  readonly entry: number;
  /** Seconds since the epoch after which it is dropped. */
  readonly expire: number;
  /** Peers that gave it, oldest first. */
  readonly from: ReadonlySet<number>;
}

interface Held extends Orphan {
  readonly from: Set<number>;
}

interface PeerUsage {
  /** Txids this peer gave, oldest first. */
  readonly txids: Set<string>;
  weight: number;
}

export class Orphanage {
  /** txid -> orphan; insertion order is age. */
  private readonly byTxid = new Map<string, Held>();
  /** outpoint key -> txids of the orphans spending it. */
  private readonly byOutpoint = new Map<string, Set<string>>();
  private readonly byPeer = new Map<number, PeerUsage>();
  private nextSweep = 0;

  constructor(
    private readonly maxOrphans = DEFAULT_MAX_ORPHAN_TRANSACTIONS,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
    private readonly maxPeerWeight = MAX_ORPHAN_WEIGHT_PER_PEER,
  ) {}

  get size(): number {
    return this.byTxid.size;
  }

  has(txid: string): boolean {
    return this.byTxid.has(txid);
  }

  /** Every orphan not yet expired, oldest first. */
  all(): Orphan[] {
    this.expire(true);
    return [...this.byTxid.values()];
  }

  /** Weight of what `peer` gave that is still held. */
  usage(peer: number): number {
    return this.byPeer.get(peer)?.weight ?? 0;
  }

  /**
   * Keeps `tx` as an orphan given by `peer` (another peer giving a held orphan is noted as its
   * announcer too), then applies the bounds. True when it is held afterwards.
   */
  add(tx: Tx, peer: number): boolean {
    this.expire(false);
    const txid = bytesToHex(tx.txid());
    let o = this.byTxid.get(txid);
    if (!o) {
      const weight = tx.size * 4;
      if (weight > MAX_ORPHAN_WEIGHT) return false;
      const now = this.now();
      o = { tx, txid, weight, entry: now, expire: now + ORPHAN_TX_EXPIRE_TIME, from: new Set() };
      this.byTxid.set(txid, o);
      for (const input of tx.inputs) {
        const k = input.prevout.key();
        let set = this.byOutpoint.get(k);
        if (!set) this.byOutpoint.set(k, (set = new Set()));
        set.add(txid);
      }
    }
    if (!o.from.has(peer)) {
      o.from.add(peer);
      let u = this.byPeer.get(peer);
      if (!u) this.byPeer.set(peer, (u = { txids: new Set(), weight: 0 }));
      u.txids.add(txid);
      u.weight += o.weight;
    }
    this.limitPeer(peer);
    this.limitTotal();
    return this.byTxid.has(txid);
  }

  /** The orphans spending an output of `parent` (each once), found through the outpoint index. */
  childrenOf(parent: Tx): Orphan[] {
    const hash = parent.txid();
    const out = new Map<string, Held>();
    for (let i = 0; i < parent.outputs.length; i++) {
      for (const id of this.byOutpoint.get(new OutPoint(hash, i).key()) ?? []) {
        const o = this.byTxid.get(id);
        if (o) out.set(id, o);
      }
    }
    return [...out.values()];
  }

  /** Drops one orphan (accepted, refused, or settled by a block). */
  erase(txid: string): boolean {
    const o = this.byTxid.get(txid);
    if (!o) return false;
    this.byTxid.delete(txid);
    for (const input of o.tx.inputs) {
      const k = input.prevout.key();
      const set = this.byOutpoint.get(k);
      if (set && set.delete(txid) && set.size === 0) this.byOutpoint.delete(k);
    }
    for (const peer of o.from) this.unlinkPeer(peer, o);
    return true;
  }

  /** A peer left: what only it gave goes (Core's EraseForPeer); what others gave too stays. */
  eraseForPeer(peer: number): number {
    const u = this.byPeer.get(peer);
    if (!u) return 0;
    let erased = 0;
    for (const txid of [...u.txids]) if (this.dropAnnouncement(peer, txid)) erased++;
    this.byPeer.delete(peer);
    return erased;
  }

  /** A block connected: its transactions and the orphans spending what they spend go (Core's EraseForBlock). */
  eraseForBlock(txs: readonly Tx[]): number {
    let erased = 0;
    for (const tx of txs) {
      if (this.erase(bytesToHex(tx.txid()))) erased++;
      if (tx.isCoinbase()) continue;
      for (const input of tx.inputs) {
        for (const id of [...(this.byOutpoint.get(input.prevout.key()) ?? [])]) if (this.erase(id)) erased++;
      }
    }
    return erased;
  }

  /** Drops expired orphans; unless `force`, at most once per ORPHAN_TX_EXPIRE_INTERVAL. */
  expire(force: boolean): number {
    const now = this.now();
    if (!force && now < this.nextSweep) return 0;
    this.nextSweep = now + ORPHAN_TX_EXPIRE_INTERVAL;
    let erased = 0;
    for (const o of [...this.byTxid.values()]) if (o.expire <= now && this.erase(o.txid)) erased++;
    return erased;
  }

  private limitPeer(peer: number): void {
    const u = this.byPeer.get(peer);
    while (u && u.weight > this.maxPeerWeight) {
      const oldest = u.txids.values().next().value as string;
      this.dropAnnouncement(peer, oldest);
    }
  }

  private limitTotal(): void {
    while (this.byTxid.size > this.maxOrphans) {
      let heaviest: number | undefined;
      let most = -1;
      for (const [peer, u] of this.byPeer) {
        if (u.weight > most) {
          most = u.weight;
          heaviest = peer;
        }
      }
      if (heaviest === undefined) {
        // Only possible with maxOrphans 0 and an orphan nobody gave: drop the oldest.
        this.erase(this.byTxid.keys().next().value as string);
        continue;
      }
      const u = this.byPeer.get(heaviest) as PeerUsage;
      this.dropAnnouncement(heaviest, u.txids.values().next().value as string);
    }
  }

  /** `peer` no longer vouches for `txid`; the orphan goes when nobody does. True when erased. */
  private dropAnnouncement(peer: number, txid: string): boolean {
    const o = this.byTxid.get(txid);
    if (!o) return false;
    if (o.from.size <= 1) return this.erase(txid);
    o.from.delete(peer);
    this.unlinkPeer(peer, o);
    return false;
  }

  private unlinkPeer(peer: number, o: Held): void {
    const u = this.byPeer.get(peer);
    if (!u || !u.txids.delete(o.txid)) return;
    u.weight -= o.weight;
    if (u.txids.size === 0) this.byPeer.delete(peer);
  }
}

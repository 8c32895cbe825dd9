// Relay of transactions and blocks: inv/getdata/notfound/tx/mempool, announcing accepted
// transactions and new tips to peers that do not know them yet, and serving blocks and
// transactions asked for.
// Owns: which transactions are requested from whom (txrequest.ts, Core's per-peer bounds), the
// recently-rejected filter (Core's m_recent_rejects: a rolling Bloom filter of 120,000 txids, reset
// on every new tip, so a transaction the pool refused is not fetched and verified again), asking
// the announcing peer for the missing parents of an orphan (the pool's orphanage keeps it, by peer,
// and takes it once a parent arrives; a peer's orphans go when it leaves; an orphan refused once
// its parent came scores who gave it; a child of a recently rejected transaction is not kept), and
// what each peer is known to have. Does not own: validation (the
// mempool judges; misbehaviour scores through connman) nor block download (sync.ts).
// A node catching up ignores transaction announcements (Core: no tx requests in
// IsInitialBlockDownload), and its peers mark them known, so nothing would announce them again:
// once it leaves initial download it asks each peer for its pool (BIP35 `mempool`, as bcoin does
// when its chain is synced), and a peer's first `mempool` is answered with the whole pool, as
// Core answers it (the known filter holds what was announced to a node that ignored it).
// Out of initial download (latched, as Core) a node can still be blocks behind the headers it
// holds; a transaction it refuses then for a reason a later block cures (non-final, a premature
// coinbase or BIP68 spend, inputs in blocks not yet connected) was judged against a stale tip, and
// its sender, having announced it, never announces it again. Core loses it until the sender's
// wallet resends it (12-36 hours); Tally keeps such refusals (at most Core's orphanage bound,
// by announcing peer) and asks that peer for each again once the tip reaches the best header it
// knew of when it refused it (that header on the active chain), or the tip is the best header.
// Blocks, not heights: a tip on another branch of the same height is still behind.
import { equalBytes, hexToBytes } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import type { ConnMan } from './connman.js';
import {
  InvType,
  MAX_INV,
  NODE_NETWORK_LIMITED_MIN_BLOCKS,
  PROTOCOL_VERSION,
  frame,
  isLimitedPeer,
  type InvItem,
  type InvList,
} from './messages.js';
import { key, type P2PTimeouts } from './options.js';
import { SEND_PAUSE_BYTES, type Peer } from './peer.js';
import type { Logger, P2PChain, P2PMempool, Verdict } from './ports.js';
import { RollingBloom } from './rolling-bloom.js';
import type { BlockSync } from './sync.js';
import { TxRequestTracker } from './txrequest.js';

/** Core's m_recent_rejects size. */
export const RECENT_REJECTS = 120_000;
/** Inventory entries handled per turn (see onInv): about a millisecond of work. */
export const INV_SLICE = 1_000;
/** The pool's reason for a transaction whose inputs it cannot find (an orphan). */
const MISSING_INPUTS = 'missing-inputs';
/** Refusals a later block can cure: judged by a tip behind the headers, they are asked again. */
const TIP_DEPENDENT = new Set([
  'non-final',
  'non-BIP68-final',
  'bad-txns-premature-spend-of-coinbase',
  MISSING_INPUTS,
]);
/** Refusals kept to ask again (Core's DEFAULT_MAX_ORPHAN_TRANSACTIONS, the orphanage's bound). */
export const MAX_BEHIND_REFUSALS = 100;

export class Relay {
  private readonly txRequests = new TxRequestTracker();
  private readonly recentRejects = new RollingBloom(RECENT_REJECTS);
  private readonly peers = new Map<number, Peer>();
  /** In initial download at the last tip: leaving it asks every peer for its pool. */
  private catchingUp: boolean;
  /**
   * Transactions refused for a tip-dependent reason while the tip was not the best header:
   * txid key -> the peer that gave it and that best header, to reach before asking it again.
   * Oldest first; at most MAX_BEHIND_REFUSALS.
   */
  private readonly behindRefusals = new Map<string, { peer: number; header: Uint8Array }>();

  constructor(
    private readonly chain: P2PChain,
    private readonly mempool: P2PMempool | undefined,
    private readonly conn: ConnMan,
    private readonly sync: BlockSync,
    private readonly timeouts: P2PTimeouts,
    private readonly log: Logger,
    /** The services this node advertises (a pruned node's NODE_NETWORK_LIMITED). */
    private readonly ourServices: bigint,
  ) {
    this.catchingUp = chain.isInitialBlockDownload();
  }

  /** Forgets the transactions asked of a closed peer (asked elsewhere on the next inv). */
  dropPeer(peer: Peer): void {
    for (const [k, r] of this.behindRefusals) if (r.peer === peer.id) this.behindRefusals.delete(k);
    this.txRequests.dropPeer(peer.id);
    this.peers.delete(peer.id);
    this.mempool?.peerGone(peer.id);
    this.requestWaiting();
  }

  /** Forgets transaction requests older than txRequestMs and asks other announcers instead. */
  expire(now: number): void {
    this.txRequests.expire(now, this.timeouts.txRequestMs);
    this.requestWaiting();
  }

  /** True when txid `hash` was refused by the pool since the last tip (not fetched again). */
  recentlyRejected(hash: Uint8Array): boolean {
    return this.recentRejects.has(hash);
  }

  /** Notes an announcement of txid `hash` by `peer` unless the pool has it or refused it lately. */
  private announceTx(peer: Peer, hash: Uint8Array, k: string): void {
    if (!this.mempool || this.mempool.has(hash) || this.recentRejects.has(hash)) return;
    if (this.txRequests.announce(peer.id, k)) this.peers.set(peer.id, peer);
  }

  /** Sends `peer` a getdata for what it announced and may be asked now (within its 100 in flight). */
  private requestTxs(peer: Peer): void {
    if (peer.closed) return;
    const ks = this.txRequests.take(peer.id, Date.now());
    if (ks.length > 0)
      peer.send({ command: 'getdata', items: ks.map((k) => ({ type: InvType.TX, hash: hexToBytes(k) })) });
  }

  private requestWaiting(): void {
    for (const id of this.txRequests.peersWaiting()) {
      const p = this.peers.get(id);
      if (p) this.requestTxs(p);
    }
  }

  /**
   * An `inv`, read in place (no object per entry) and in slices of INV_SLICE entries with a turn
   * between them, so other peers' messages and RPC calls are not kept waiting by a 50,000-entry
   * one. Core handles the whole inv at once, in C++.
   */
  async onInv(peer: Peer, inv: InvList): Promise<void> {
    let unknownBlock: Uint8Array | null = null;
    for (let start = 0; start < inv.length; start += INV_SLICE) {
      if (start > 0) {
        await peer.yieldTurn();
        if (peer.closed) return;
      }
      const ibd = this.chain.isInitialBlockDownload();
      // Only announcing fills it, so it is read again only after one.
      let full = this.txRequests.full(peer.id);
      const end = Math.min(inv.length, start + INV_SLICE);
      for (let i = start; i < end; i++) {
        const type = inv.type(i);
        // A peer at its 5,000 pending announcements (Core's MAX_PEER_TX_ANNOUNCEMENTS) has the
        // rest of its transaction inv dropped unread: a 50,000-item inv costs no more than that.
        const txWanted = type === InvType.TX && this.mempool !== undefined && !ibd;
        if (txWanted && full) continue;
        peer.knownInv.add(inv.data, inv.hashOffset(i), 32);
        if (type === InvType.BLOCK) {
          const hash = inv.hash(i);
          peer.notFound.delete(key(hash));
          const h = this.chain.headerHeight(hash);
          if (h === undefined) unknownBlock = hash;
          else {
            peer.bestHeight = Math.max(peer.bestHeight, h);
            peer.syncedHeaders = Math.max(peer.syncedHeaders, h);
          }
        } else if (txWanted) {
          const hash = inv.hash(i);
          this.announceTx(peer, hash, key(hash));
          full = this.txRequests.full(peer.id);
        }
      }
    }
    // As Core: an unknown block announced by inv is fetched via getheaders up to it.
    if (unknownBlock && this.sync.askHeadersForInv(peer, unknownBlock)) {
      peer.send({
        command: 'getheaders',
        version: PROTOCOL_VERSION,
        locator: this.chain.getLocator(),
        stop: unknownBlock,
      });
    }
    this.requestTxs(peer);
  }

  async onGetData(peer: Peer, items: InvItem[]): Promise<void> {
    const notFound: InvItem[] = [];
    for (const it of items) {
      if (peer.closed) return;
      if (it.type === InvType.BLOCK) {
        // Core's ProcessGetBlockData: a limited node serves no block deeper than 288 (+2 for races)
        // below its tip, and disconnects the peer (which would otherwise wait for it), so the
        // depth of its pruning is not given away; a noban peer is served what is still stored.
        const height = this.chain.headerHeight(it.hash);
        if (
          !peer.noban &&
          isLimitedPeer(this.ourServices) &&
          height !== undefined &&
          this.chain.tipHeight() - height > NODE_NETWORK_LIMITED_MIN_BLOCKS + 2
        ) {
          this.conn.disconnect(peer, 'block request below the NODE_NETWORK_LIMITED threshold');
          return;
        }
        const bytes = await this.chain.getBlockBytes(it.hash);
        if (!bytes) {
          notFound.push(it);
          continue;
        }
        // As Core's fPauseSend: nothing more while the peer has not read what it was sent (Core's
        // -maxsendbuffer), so a peer that never reads holds about one block, not what it asked for.
        await peer.drain(SEND_PAUSE_BYTES);
        peer.sendRaw(frame('block', bytes));
        peer.knownInv.add(it.hash);
      } else if (it.type === InvType.TX) {
        const tx = this.mempool?.get(it.hash);
        if (tx) peer.send({ command: 'tx', tx });
        else notFound.push(it);
      }
    }
    if (notFound.length > 0) peer.send({ command: 'notfound', items: notFound });
  }

  onNotFound(peer: Peer, items: InvItem[]): void {
    for (const it of items) {
      const k = key(it.hash);
      this.sync.onBlockNotFound(peer, k);
      if (it.type === InvType.TX) this.txRequests.notFound(peer.id, k);
    }
    this.requestWaiting();
    this.sync.scheduleDownloads();
  }

  /**
   * Answers `mempool` with the pool's txids: the first request of a connection gets all of them
   * (Core ignores the known filter here), later ones only what the peer is not known to have, so
   * asking again and again costs the pool once per connection.
   */
  onMempool(peer: Peer): void {
    if (!this.mempool) return;
    const everything = !peer.mempoolAnswered;
    peer.mempoolAnswered = true;
    const items: InvItem[] = [];
    for (const txid of this.mempool.txids()) {
      if (!everything && peer.knownInv.has(txid)) continue;
      peer.knownInv.add(txid);
      items.push({ type: InvType.TX, hash: txid });
      if (items.length === MAX_INV) peer.send({ command: 'inv', items: items.splice(0) });
    }
    if (items.length > 0) peer.send({ command: 'inv', items });
  }

  async onTx(peer: Peer, tx: Tx): Promise<void> {
    const txid = tx.txid();
    const k = key(txid);
    if (!this.txRequests.requestedOf(peer.id, k)) {
      this.conn.misbehave(peer, 10, 'unrequested transaction');
      return;
    }
    this.txRequests.forget(k);
    peer.knownInv.add(txid);
    if (!this.mempool || this.mempool.has(txid)) return this.requestTxs(peer);
    // Core's "not keeping orphan with rejected parents": a child of a transaction refused lately
    // is not kept as an orphan (no peer given, so the pool keeps none), and is refused itself.
    const rejectedParents = tx.inputs.some((i) => this.recentRejects.has(i.prevout.hash));
    const tipBefore = this.chain.tipHash();
    const res = await this.mempool.accept(tx, rejectedParents ? undefined : peer.id);
    if (res.accepted) peer.lastTxTime = Date.now();
    // Before the refusal enters the recently-rejected filter: a tip that came during the await
    // has it asked again at once, which that filter would stop.
    else this.noteBehindRefusal(peer, k, res.reason, tipBefore);
    if (!res.accepted && res.reason === MISSING_INPUTS) {
      if (rejectedParents) {
        // Checked again: a tip that came during the await reset the filter (the parent may do now).
        if (tx.inputs.some((i) => this.recentRejects.has(i.prevout.hash))) this.recentRejects.add(txid);
        this.log.debug({ peer: peer.label, txid: tx.txidHex() }, 'not keeping orphan with rejected parents');
      } else {
        // Core's orphan handling: the pool keeps the child as this peer's orphan
        // (mempool/orphanage.ts); its parents are asked of this peer.
        for (const input of tx.inputs) this.announceTx(peer, input.prevout.hash, key(input.prevout.hash));
      }
    } else if (!res.accepted) this.refused(peer, tx, res);
    this.requestTxs(peer);
  }

  /**
   * An orphan given by `peerIds`, tried again once its parent arrived, was refused (Core's
   * ProcessOrphanTx): it goes to the recently-rejected filter and its givers are scored as if they
   * had sent an invalid transaction just now (an honest node never relays what it cannot validate).
   */
  onOrphanRejected(tx: Tx, peerIds: number[], verdict: Verdict & { policy: boolean }): void {
    this.recentRejects.add(tx.txid());
    for (const id of peerIds) {
      const peer = this.conn.peers.get(id);
      if (peer && !peer.closed) this.refused(peer, tx, verdict, 'orphan ');
    }
  }

  /**
   * Keeps a refusal that a block this node is still missing may cure (the tip, `tipBefore` when
   * the pool began, not the best header), to ask `peer` for the transaction again once the tip
   * reaches that header; at once when a tip that came during the pool's await already did.
   */
  private noteBehindRefusal(peer: Peer, k: string, reason: string | undefined, tipBefore: Uint8Array): void {
    const header = this.chain.headerTipHash();
    if (reason === undefined || !TIP_DEPENDENT.has(reason) || equalBytes(header, tipBefore)) return;
    this.behindRefusals.delete(k);
    if (this.behindRefusals.size >= MAX_BEHIND_REFUSALS) {
      const oldest = this.behindRefusals.keys().next().value;
      if (oldest !== undefined) this.behindRefusals.delete(oldest);
    }
    this.behindRefusals.set(k, { peer: peer.id, header });
    if (!equalBytes(this.chain.tipHash(), tipBefore)) this.askBehindRefusals();
  }

  /**
   * Asks again for the refusals kept by noteBehindRefusal whose header is now on the active chain
   * (a tip event may cover several blocks, a reorg included), or all of them once the tip is the
   * best header (a kept header on a branch given up is never reached).
   */
  private askBehindRefusals(): void {
    const caughtUp = equalBytes(this.chain.tipHash(), this.chain.headerTipHash());
    const asked = new Set<Peer>();
    for (const [k, r] of this.behindRefusals) {
      if (!caughtUp && !this.chain.isOnActiveChain(r.header)) continue;
      this.behindRefusals.delete(k);
      const peer = this.conn.peers.get(r.peer);
      if (!peer || peer.closed) continue;
      this.announceTx(peer, hexToBytes(k), k);
      asked.add(peer);
    }
    for (const peer of asked) this.requestTxs(peer);
  }

  /** The pool refused `tx` from `peer` (not for missing inputs): remembered, and scored unless policy. */
  private refused(peer: Peer, tx: Tx, res: Verdict & { policy?: boolean }, what = ''): void {
    const reason = res.reason ?? 'rejected';
    this.recentRejects.add(tx.txid());
    this.conn.rejected(peer, {
      kind: 'tx',
      reason,
      dos: res.dos ?? 0,
      policy: res.policy ?? false,
      hash: tx.txidHex(),
      tx,
    });
    if (!res.policy && res.dos) this.conn.misbehave(peer, res.dos, `invalid ${what}transaction: ${reason}`);
    else this.log.debug({ peer: peer.label, txid: tx.txidHex(), reason }, `${what}transaction not accepted`);
  }

  onTxAccepted(tx: Tx): void {
    const txid = tx.txid();
    for (const p of this.conn.readyPeers()) {
      if (!p.version?.relay || p.knownInv.has(txid)) continue;
      p.knownInv.add(txid);
      p.send({ command: 'inv', items: [{ type: InvType.TX, hash: txid }] });
    }
  }

  /** Asks each peer that relays for its pool: what it announced while we ignored it is inv'd again. */
  private askPools(): void {
    if (!this.mempool) return;
    const peers = this.conn.readyPeers().filter((p) => p.version?.relay);
    this.log.info({ peers: peers.length }, 'left initial block download; asking peers for their pools');
    for (const p of peers) p.send({ command: 'mempool' });
  }

  /**
   * A peer's handshake is done: a tip beyond the height its version gave came during the
   * handshake, when onTip skipped it (not ready yet), so it is announced now (an inv, as the peer's
   * sendheaders comes after this). Core queues a new tip for every peer and sends it once the
   * handshake is done; without this a peer whose version said "height 0" while our first block
   * was mined hears of it only by its own initial getheaders (sync.ts), which a peer that is not
   * its first while its best header is old does not get.
   */
  onPeerReady(peer: Peer): void {
    if (this.chain.isInitialBlockDownload() || this.chain.tipHeight() <= peer.bestHeight) return;
    this.announceBlock(peer, this.chain.tipHash());
  }

  /** Announces a new tip (headers to peers that asked for them, else inv), outside IBD. */
  onTip(hash: Uint8Array): void {
    // As Core: a new tip may make a refused transaction valid (a spent input reorged away, a lock).
    this.recentRejects.reset();
    if (this.behindRefusals.size > 0) this.askBehindRefusals();
    if (this.chain.isInitialBlockDownload()) return;
    if (this.catchingUp) {
      this.catchingUp = false;
      this.askPools();
    }
    const header = this.chain.getHeader(hash);
    for (const p of this.conn.readyPeers()) this.announceBlock(p, hash, header);
  }

  /** Announces a block the peer does not know of: headers when it asked for them, else inv. */
  private announceBlock(peer: Peer, hash: Uint8Array, header = this.chain.getHeader(hash)): void {
    if (peer.knownInv.has(hash)) return;
    peer.knownInv.add(hash);
    if (peer.sendHeaders && header) peer.send({ command: 'headers', headers: [header] });
    else peer.send({ command: 'inv', items: [{ type: InvType.BLOCK, hash }] });
  }
}

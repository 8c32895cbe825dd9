// Relay of transactions and blocks: inv/getdata/notfound/tx/mempool, announcing accepted
// transactions and new tips to peers that do not know them yet, and serving blocks and
// transactions asked for.
// Owns: which transactions are requested from whom (txInFlight) and what each peer is known to
// have. Does not own: validation (the mempool judges; misbehaviour scores through connman) nor
// block download (sync.ts).
import type { Tx } from '../primitives/tx.js';
import type { ConnMan } from './connman.js';
import { InvType, MAX_INV, PROTOCOL_VERSION, frame, type InvItem } from './messages.js';
import { key, type P2PTimeouts } from './options.js';
import type { Peer } from './peer.js';
import type { Logger, P2PChain, P2PMempool } from './ports.js';
import type { BlockSync } from './sync.js';

export class Relay {
  private readonly txInFlight = new Map<string, { peer: number; at: number }>();

  constructor(
    private readonly chain: P2PChain,
    private readonly mempool: P2PMempool | undefined,
    private readonly conn: ConnMan,
    private readonly sync: BlockSync,
    private readonly timeouts: P2PTimeouts,
    private readonly log: Logger,
  ) {}

  /** Forgets the transactions asked of a closed peer (asked elsewhere on the next inv). */
  dropPeer(peer: Peer): void {
    for (const [k, t] of this.txInFlight) if (t.peer === peer.id) this.txInFlight.delete(k);
  }

  /** Forgets transaction requests older than txRequestMs. */
  expire(now: number): void {
    for (const [k, v] of this.txInFlight)
      if (now - v.at > this.timeouts.txRequestMs) this.txInFlight.delete(k);
  }

  onInv(peer: Peer, items: InvItem[]): void {
    const wantTx: InvItem[] = [];
    let unknownBlock: Uint8Array | null = null;
    const ibd = this.chain.isInitialBlockDownload();
    for (const it of items) {
      const k = key(it.hash);
      peer.knownInv.add(k);
      if (it.type === InvType.BLOCK) {
        peer.notFound.delete(k);
        const h = this.chain.headerHeight(it.hash);
        if (h === undefined) unknownBlock = it.hash;
        else {
          peer.bestHeight = Math.max(peer.bestHeight, h);
          peer.syncedHeaders = Math.max(peer.syncedHeaders, h);
        }
      } else if (it.type === InvType.TX && this.mempool && !ibd) {
        if (this.mempool.has(it.hash) || this.txInFlight.has(k)) continue;
        this.txInFlight.set(k, { peer: peer.id, at: Date.now() });
        wantTx.push(it);
      }
    }
    // As Core: an unknown block announced by inv is fetched via getheaders up to it.
    if (unknownBlock && !this.sync.syncPeer) {
      peer.send({
        command: 'getheaders',
        version: PROTOCOL_VERSION,
        locator: this.chain.getLocator(),
        stop: unknownBlock,
      });
    }
    if (wantTx.length > 0) peer.send({ command: 'getdata', items: wantTx });
  }

  async onGetData(peer: Peer, items: InvItem[]): Promise<void> {
    const notFound: InvItem[] = [];
    for (const it of items) {
      if (peer.closed) return;
      if (it.type === InvType.BLOCK) {
        const bytes = await this.chain.getBlockBytes(it.hash);
        if (!bytes) {
          notFound.push(it);
          continue;
        }
        // Hold back while the socket still has several blocks to write: memory stays bounded.
        await peer.drain(8_000_000);
        peer.sendRaw(frame('block', bytes));
        peer.knownInv.add(key(it.hash));
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
      const t = this.txInFlight.get(k);
      if (t && t.peer === peer.id) this.txInFlight.delete(k);
    }
    this.sync.scheduleDownloads();
  }

  onMempool(peer: Peer): void {
    if (!this.mempool) return;
    const items: InvItem[] = [];
    for (const txid of this.mempool.txids()) {
      const k = key(txid);
      if (peer.knownInv.has(k)) continue;
      peer.knownInv.add(k);
      items.push({ type: InvType.TX, hash: txid });
      if (items.length === MAX_INV) peer.send({ command: 'inv', items: items.splice(0) });
    }
    if (items.length > 0) peer.send({ command: 'inv', items });
  }

  async onTx(peer: Peer, tx: Tx): Promise<void> {
    const txid = tx.txid();
    const k = key(txid);
    const req = this.txInFlight.get(k);
    if (!req || req.peer !== peer.id) {
      this.conn.misbehave(peer, 10, 'unrequested transaction');
      return;
    }
    this.txInFlight.delete(k);
    peer.knownInv.add(k);
    if (!this.mempool || this.mempool.has(txid)) return;
    const res = await this.mempool.accept(tx);
    if (!res.accepted && !res.policy && res.dos) {
      this.conn.misbehave(peer, res.dos, `invalid transaction: ${res.reason ?? 'rejected'}`);
    } else if (!res.accepted) {
      this.log.debug(
        { peer: peer.label, txid: tx.txidHex(), reason: res.reason },
        'transaction not accepted',
      );
    }
  }

  onTxAccepted(tx: Tx): void {
    const txid = tx.txid();
    const k = key(txid);
    for (const p of this.conn.readyPeers()) {
      if (!p.version?.relay || p.knownInv.has(k)) continue;
      p.knownInv.add(k);
      p.send({ command: 'inv', items: [{ type: InvType.TX, hash: txid }] });
    }
  }

  /** Announces a new tip (headers to peers that asked for them, else inv), outside IBD. */
  onTip(hash: Uint8Array): void {
    if (this.chain.isInitialBlockDownload()) return;
    const k = key(hash);
    const header = this.chain.getHeader(hash);
    for (const p of this.conn.readyPeers()) {
      if (p.knownInv.has(k)) continue;
      p.knownInv.add(k);
      if (p.sendHeaders && header) p.send({ command: 'headers', headers: [header] });
      else p.send({ command: 'inv', items: [{ type: InvType.BLOCK, hash }] });
    }
  }
}

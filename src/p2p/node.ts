// The P2P node: a facade over its parts. connman.ts listens, dials, accepts and scores peers;
// relay.ts relays blocks and transactions; addrgossip.ts exchanges addresses; sync.ts syncs
// headers first then blocks from several peers in a moving window. This file runs the handshake,
// dispatches each message to the part that owns it, and answers the operator (RPC).
// Does not own: validation (the chain and mempool behind ports.ts judge headers, blocks and
// transactions; p2p turns their verdicts into scores). Fails soft: a bad peer is disconnected, an
// internal error is logged and the peer kept; start() rejects only when the listen socket cannot be
// opened.
import { EventEmitter } from 'node:events';
import { bytesToHex, equalBytes } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import { AddrGossip } from './addrgossip.js';
import { AddressBook } from './addrbook.js';
import { BanList, type BanEntry } from './banlist.js';
import { ConnMan } from './connman.js';
import {
  MAX_ADDR,
  MAX_HEADERS,
  MIN_PEER_PROTOCOL_VERSION,
  MessageError,
  NODE_NETWORK,
  PROTOCOL_VERSION,
  ZERO_ADDR,
  decodeIncoming,
  type Incoming,
  type VersionPayload,
} from './messages.js';
import { ipToBytes, isRoutable, normalizeUrl, parseEndpoint } from './netaddr.js';
import {
  DEFAULT_TIMEOUTS,
  DEFAULT_USER_AGENT,
  silent,
  type P2PNodeEvents,
  type P2PNodeOptions,
  type P2PTimeouts,
  type PeerInfo,
  type SyncProgress,
} from './options.js';
import type { Peer } from './peer.js';
import type { Logger, P2PChain, P2PMempool, P2PNetworkParams } from './ports.js';
import { Relay } from './relay.js';
import { BlockSync } from './sync.js';

export { DEFAULT_TIMEOUTS, DEFAULT_USER_AGENT } from './options.js';
export type {
  P2PNodeOptions,
  P2PTimeouts,
  PeerInfo,
  SyncProgress,
  P2PNodeEvents,
  RejectedItem,
} from './options.js';

export class P2PNode extends EventEmitter<P2PNodeEvents> {
  readonly params: P2PNetworkParams;
  readonly chain: P2PChain;
  readonly mempool?: P2PMempool;
  readonly book: AddressBook;
  readonly bans: BanList;
  readonly timeouts: P2PTimeouts;
  private readonly log: Logger;
  private readonly opts: P2PNodeOptions;
  private readonly conn: ConnMan;
  private readonly sync: BlockSync;
  private readonly relay: Relay;
  private readonly addrs: AddrGossip;
  private tickTimer?: NodeJS.Timeout;
  private unsubs: (() => void)[] = [];

  constructor(opts: P2PNodeOptions) {
    super();
    this.opts = opts;
    this.params = opts.params;
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.log = opts.logger ?? silent;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.book = new AddressBook({ file: opts.peersFile, key: opts.addrBookKey });
    this.bans = new BanList(opts.banlistFile, Date.now, (err) =>
      this.log.error({ err }, 'cannot save the ban list; bans hold until the node stops'),
    );
    this.conn = new ConnMan({
      opts,
      params: this.params,
      timeouts: this.timeouts,
      log: this.log,
      book: this.book,
      bans: this.bans,
      events: this,
      hooks: {
        onData: (p, d) => this.onData(p, d),
        onOpen: (p) => this.sendVersion(p),
        onClosed: (p) => {
          this.sync.dropPeer(p);
          this.relay.dropPeer(p);
        },
        afterClose: () => {
          this.sync.scheduleDownloads();
          this.sync.maybeStartHeadersSync();
        },
        info: (p) => this.info(p),
      },
    });
    this.sync = new BlockSync(opts, this.chain, this.conn, this.timeouts, this.log);
    this.relay = new Relay(
      this.chain,
      this.mempool,
      this.conn,
      this.sync,
      this.timeouts,
      this.log,
      this.services,
    );
    this.addrs = new AddrGossip(this.params, this.book, this.conn, opts.allowLocalAddrs);
  }

  /** The port actually listened on (after start), 0 when not listening. */
  get port(): number {
    return this.conn.port;
  }

  /** The URL announced to peers ('' when none). */
  get url(): string {
    return this.conn.url;
  }

  /** Our own URLs, learned when a dial reached ourselves. */
  get selfUrls(): ReadonlySet<string> {
    return this.conn.selfUrls;
  }

  async start(): Promise<void> {
    for (const err of [this.book.load(), this.bans.load()])
      if (err) this.log.warn({ err }, 'peers or ban file: ignored what could not be read');
    const useSeeds = this.opts.useSeeds ?? !this.opts.connect?.length;
    if (useSeeds) {
      for (const s of this.params.seeds) {
        const url = normalizeUrl(s, this.params.defaultPort);
        if (url) this.book.add(url, 'seed', 0);
      }
    }
    if (this.opts.listen ?? true) await this.conn.listen();
    this.unsubs.push(
      this.chain.onTip((hash, height) => {
        this.sync.recordTip(height);
        this.relay.onTip(hash);
      }),
    );
    if (this.mempool) this.unsubs.push(this.mempool.onAccepted((tx) => this.relay.onTxAccepted(tx)));
    const orphans = this.mempool?.onOrphanRejected?.((tx, peers, v) =>
      this.relay.onOrphanRejected(tx, peers, v),
    );
    if (orphans) this.unsubs.push(orphans);
    this.tickTimer = setInterval(() => this.tick(), this.timeouts.tickMs);
    this.tickTimer.unref();
    this.conn.maintainConnections();
  }

  async stop(): Promise<void> {
    this.conn.stopping = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const u of this.unsubs) u();
    this.unsubs = [];
    await this.conn.close();
    this.conn.saveBook();
  }

  private tick(): void {
    const now = Date.now();
    this.conn.checkTimeouts(now);
    this.sync.checkTimeouts(now);
    // As Core's SendMessages, on every round: a best header that became recent has every peer asked.
    this.sync.maybeStartHeadersSync();
    this.relay.expire(now);
    this.conn.maintainConnections();
    this.sync.scheduleDownloads();
    this.conn.saveBook();
  }

  // ---------------------------------------------------------------- handshake and dispatch

  private async onData(peer: Peer, data: Uint8Array): Promise<void> {
    let msg: Incoming;
    try {
      msg = decodeIncoming(data);
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      this.conn.misbehave(peer, e.dos, `malformed message: ${e.message}`);
      return;
    }
    if (peer.closed) return;
    try {
      await this.dispatch(peer, msg);
    } catch (err) {
      this.log.error({ peer: peer.label, command: msg.command, err }, 'error handling message');
    }
  }

  private async dispatch(peer: Peer, msg: Incoming): Promise<void> {
    if (msg.command === 'unknown') return; // As Core: unknown commands are ignored, unscored.
    if (msg.command === 'version') return this.onVersion(peer, msg);
    if (!peer.version) {
      this.conn.misbehave(peer, 1, `${msg.command} before version`);
      return;
    }
    if (msg.command === 'verack') {
      if (!peer.verackReceived) {
        peer.verackReceived = true;
        this.onReady(peer);
      }
      return;
    }
    if (!peer.ready) return;
    switch (msg.command) {
      case 'ping':
        peer.send({ command: 'pong', nonce: msg.nonce });
        return;
      case 'pong':
        if (peer.pingNonce !== null && msg.nonce === peer.pingNonce) {
          peer.lastPingMs = Date.now() - peer.pingSentAt;
          peer.minPingMs = Math.min(peer.minPingMs ?? Infinity, peer.lastPingMs);
          peer.pingNonce = null;
        }
        return;
      case 'sendheaders':
        peer.sendHeaders = true;
        return;
      case 'getaddr':
        return this.addrs.onGetAddr(peer);
      case 'addr':
        return this.addrs.onAddr(peer, msg.addrs);
      case 'inv':
        return this.relay.onInv(peer, msg.list);
      case 'getdata':
        return this.relay.onGetData(peer, msg.items);
      case 'notfound':
        return this.relay.onNotFound(peer, msg.items);
      case 'getheaders':
        peer.send({
          command: 'headers',
          headers: this.chain.getHeadersAfter(msg.locator, msg.stop, MAX_HEADERS),
        });
        return;
      case 'headers':
        return this.sync.onHeaders(peer, msg.headers);
      case 'block':
        return this.sync.onBlock(peer, msg.block);
      case 'tx':
        return this.relay.onTx(peer, msg.tx);
      case 'mempool':
        return this.relay.onMempool(peer);
    }
  }

  private sendVersion(peer: Peer): void {
    const ep = peer.inbound ? null : parseEndpoint(peer.url, this.params.defaultPort);
    const recvHost = peer.inbound ? peer.host : ep?.host;
    const v: VersionPayload = {
      version: PROTOCOL_VERSION,
      services: this.services,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      addrRecv:
        recvHost && ipToBytes(recvHost) ? { services: 0n, host: recvHost, port: ep?.port ?? 0 } : ZERO_ADDR,
      addrFrom: ZERO_ADDR,
      nonce: peer.localNonce,
      userAgent: this.userAgent,
      startHeight: this.chain.tipHeight(),
      relay: this.mempool !== undefined,
      magic: this.params.magic,
      wsurl: this.conn.url,
    };
    peer.send({ command: 'version', ...v });
  }

  private lastForeignLog = -Infinity;

  private onVersion(peer: Peer, v: VersionPayload): void {
    if (peer.version) {
      this.conn.misbehave(peer, 1, 'duplicate version');
      return;
    }
    if (!equalBytes(v.magic, this.params.magic)) {
      // Another network's node is not malicious: disconnect, forget the address, do not ban. It
      // is usually an operator's mistake (a wrong seed or network file), worth a line; inbound
      // ones at most one a minute, so strangers cannot fill the log.
      const now = Date.now();
      if (!peer.inbound || now - this.lastForeignLog >= 60_000) {
        if (peer.inbound) this.lastForeignLog = now;
        this.log.warn(
          { peer: peer.label, magic: bytesToHex(v.magic) },
          'peer is on another network (its magic differs from ours); disconnected',
        );
      }
      this.conn.disconnect(peer, 'wrong network');
      if (!peer.inbound) this.book.remove(peer.url);
      return;
    }
    if (v.version < MIN_PEER_PROTOCOL_VERSION) {
      this.conn.disconnect(peer, `obsolete protocol version ${v.version}`);
      return;
    }
    for (const other of this.conn.peers.values()) {
      if (!other.inbound && other.localNonce === v.nonce) {
        this.conn.selfUrls.add(other.url);
        this.conn.disconnect(other, 'connected to self');
        this.conn.disconnect(peer, 'connected to self');
        return;
      }
    }
    peer.version = v;
    // Before our verack goes out: the peer sends nothing large until it has it.
    peer.acceptFullMessages();
    peer.timeOffset = Number(v.timestamp) - Math.floor(Date.now() / 1000);
    peer.bestHeight = Math.max(0, v.startHeight);
    if (peer.inbound) {
      const url = v.wsurl ? normalizeUrl(v.wsurl, this.params.defaultPort) : null;
      if (url) {
        peer.url = url;
        // An unroutable listen URL (loopback, private) is not stored: it would be dialled later.
        const host = parseEndpoint(url, this.params.defaultPort)?.host ?? '';
        if (this.opts.allowLocalAddrs || isRoutable(host))
          this.book.add(url, 'announce', undefined, peer.host);
      }
      this.sendVersion(peer);
    }
    peer.send({ command: 'verack' });
  }

  private onReady(peer: Peer): void {
    peer.ready = true;
    peer.pingSentAt = Date.now();
    if (!peer.inbound) {
      this.book.good(peer.url);
      if (this.book.size < 1000) {
        peer.send({ command: 'getaddr' });
        // As Core: the answer to our own getaddr may carry a full addr message.
        peer.refillAddrTokens(Date.now(), MAX_ADDR);
      }
    }
    peer.send({ command: 'sendheaders' });
    this.relay.onPeerReady(peer);
    // As Core: "New outbound peer connected" is an info line, an inbound peer a debug one (anyone
    // may connect, and reconnecting must not fill the log).
    const line = { peer: peer.label, ua: peer.version?.userAgent, height: peer.bestHeight };
    if (peer.inbound) this.log.debug(line, 'peer connected');
    else this.log.info(line, 'peer connected');
    this.emit('ready', this.info(peer));
    this.sync.maybeStartHeadersSync();
    this.sync.scheduleDownloads();
  }

  // ---------------------------------------------------------------- operator

  /**
   * Operator's addnode: 'add' keeps a connection, 'remove' forgets it, 'onetry' dials once.
   * Returns false when 'add' finds the node already added or 'remove' finds it not added.
   */
  addNode(address: string, command: 'add' | 'remove' | 'onetry'): boolean {
    return this.conn.addNode(address, command);
  }

  /** URLs kept connected by addnode 'add' (and the `connect`/`addnode` options). */
  addedNodes(): string[] {
    return [...this.conn.manual];
  }

  get networkActive(): boolean {
    return this.conn.networkActive;
  }

  /** Core's setnetworkactive: false drops every peer and stops accepting and dialling. */
  setNetworkActive(active: boolean): void {
    this.conn.setNetworkActive(active);
  }

  /**
   * Core's getblockfrompeer: asks peer `id` for a block whose header is known. Returns Core's
   * error text ("Peer does not exist", "Already requested from this peer") or null when asked.
   */
  fetchBlock(id: number, hash: Uint8Array): string | null {
    const peer = this.conn.peers.get(id);
    const height = this.chain.headerHeight(hash);
    if (peer === undefined || !peer.ready || peer.closed) return 'Peer does not exist';
    if (height === undefined) return 'Block header missing';
    return this.sync.fetchBlock(peer, hash, height);
  }

  /** Closes connections to a peer by id or URL; returns whether one was found. */
  disconnectPeer(idOrUrl: number | string): boolean {
    return this.conn.disconnectPeer(idOrUrl);
  }

  /**
   * Bans (or unbans) a host, a peer URL's host, or an IP subnet (`10.0.0.0/8`). Returns false when
   * 'add' finds that exact entry already banned or 'remove' finds it not banned.
   */
  setBan(address: string, command: 'add' | 'remove', banTimeSec = 86_400): boolean {
    return this.conn.setBan(address, command, banTimeSec);
  }

  /** Whether a host was discouraged for misbehaving (in memory since start, as Core). */
  isDiscouraged(host: string): boolean {
    return this.conn.isDiscouraged(host);
  }

  listBanned(): BanEntry[] {
    return this.bans.list();
  }

  clearBanned(): void {
    this.bans.clear();
  }

  /** The user agent announced in version. */
  get userAgent(): string {
    return this.opts.userAgent ?? DEFAULT_USER_AGENT;
  }

  /** The service bits this node advertises. */
  get services(): bigint {
    return this.opts.services ?? NODE_NETWORK;
  }

  /** Bytes sent and received since start, over all connections, closed ones included. */
  netTotals(): { bytesSent: number; bytesRecv: number } {
    return this.conn.netTotals();
  }

  /** Operator's ping: pings every ready peer now, except those with a ping still unanswered. */
  pingPeers(): void {
    for (const p of this.conn.readyPeers()) if (p.pingNonce === null) this.conn.ping(p);
  }

  /** Adds to a peer's score; at the threshold it is disconnected (and discouraged unless local). */
  misbehave(peer: Peer, dos: number, reason: string): void {
    this.conn.misbehave(peer, dos, reason);
  }

  private info(p: Peer): PeerInfo {
    return {
      id: p.id,
      url: p.url,
      host: p.host,
      remoteAddress: p.remoteAddress,
      remotePort: p.remotePort,
      localAddress: p.localAddress,
      localPort: p.localPort,
      inbound: p.inbound,
      noban: p.noban,
      manual: p.manual,
      ready: p.ready,
      version: p.version?.version ?? 0,
      subver: p.version?.userAgent ?? '',
      services: (p.version?.services ?? 0n).toString(16).padStart(16, '0'),
      relayTxs: p.version?.relay ?? false,
      timeOffset: p.timeOffset,
      startingHeight: p.version?.startHeight ?? -1,
      bestHeight: p.bestHeight,
      syncedHeaders: p.syncedHeaders,
      banScore: p.score,
      pingMs: p.lastPingMs,
      minPingMs: p.minPingMs,
      pingWaitMs: p.pingNonce !== null ? Date.now() - p.pingSentAt : null,
      bytesSent: p.bytesSent,
      bytesRecv: p.bytesRecv,
      lastSend: p.lastSend,
      lastRecv: p.lastRecv,
      connectedAt: p.connectedAt,
      blocksInFlight: p.blocksInFlight.size,
      inFlightHeights: this.sync.inFlightHeights(p),
      sendHeaders: p.sendHeaders,
      addrProcessed: p.addrProcessed,
      addrRateLimited: p.addrRateLimited,
      bytesSentPerMsg: Object.fromEntries(p.bytesSentPerMsg),
      bytesRecvPerMsg: Object.fromEntries(p.bytesRecvPerMsg),
      lastTxTime: p.lastTxTime,
      lastBlockTime: p.lastBlockTime,
      presyncedHeaders: this.sync.presyncedHeaders(p),
    };
  }

  peerInfo(): PeerInfo[] {
    return [...this.conn.peers.values()].map((p) => this.info(p));
  }

  connectionCount(): { inbound: number; outbound: number } {
    return this.conn.connectionCount();
  }

  progress(): SyncProgress {
    return this.sync.progress();
  }

  /** Announces a pool transaction again to every peer not known to have it (wallet rebroadcast). */
  relayTransaction(tx: Tx): void {
    this.relay.onTxAccepted(tx);
  }
}

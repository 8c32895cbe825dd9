// The connection manager: the listen socket, dialling, accepting and closing peers, connection
// slots, operator connections (connect/addnode), bans and misbehaviour scoring, pings and the
// per-connection timeouts.
// Owns: the set of peers and their sockets. Does not own: what their messages mean (node.ts hands
// each message to relay, addrgossip or sync) nor what a closed peer leaves behind in those parts
// (the onClosed hook). Fails soft: a socket error closes that peer only.
import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressBook } from './addrbook.js';
import { type Subnet, normalizeHost, parseSubnet, subnetContains, type BanList } from './banlist.js';
import { MAX_HANDSHAKE_MESSAGE } from './messages.js';
import { selectEviction, type EvictionCandidate } from './eviction.js';
import { endpointToUrl, isLoopback, isRoutable, netGroup, normalizeUrl, parseEndpoint } from './netaddr.js';
import type { P2PNodeEvents, P2PNodeOptions, P2PTimeouts, PeerInfo, RejectedItem } from './options.js';
import { BoundedSet } from '../primitives/bounded.js';
import { Peer, SEND_PAUSE_BYTES, Turns } from './peer.js';
import type { Logger, P2PNetworkParams } from './ports.js';

/** What the connection manager asks of the rest of the node. */
export interface ConnHooks {
  /** One whole message from a peer, in order (the peer's queue waits for the promise). */
  onData(peer: Peer, data: Uint8Array): Promise<void>;
  /** An outbound socket opened: the handshake starts. */
  onOpen(peer: Peer): void;
  /** A peer left: drop what other parts hold for it (requests, sync role). */
  onClosed(peer: Peer): void;
  /** After a peer left, while not stopping: other peers may take over its work. */
  afterClose(): void;
  info(peer: Peer): PeerInfo;
}

export interface ConnContext {
  opts: P2PNodeOptions;
  params: P2PNetworkParams;
  timeouts: P2PTimeouts;
  log: Logger;
  book: AddressBook;
  bans: BanList;
  events: EventEmitter<P2PNodeEvents>;
  hooks: ConnHooks;
}

/** Hosts remembered as discouraged: Core's m_discouraged rolling filter of 50,000 entries. */
export const MAX_DISCOURAGED = 50_000;

/** A refused or evicted socket that ignores our close frame (or our HTTP answer) is cut off after this. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Sockets at most in their HTTP request at once, whatever the slots (Core's
 * DEFAULT_MAX_PEER_CONNECTIONS, 125: the most sockets Core holds by default). Not the inbound
 * slots: a burst of connections to a full node must each get its 503, not be dropped unanswered.
 */
export const MAX_PENDING_REQUESTS = 125;

/** Why an inbound connection is not served, and the HTTP status its upgrade is answered with. */
interface Refusal {
  status: 403 | 503;
  reason: string;
}

export class ConnMan {
  readonly peers = new Map<number, Peer>();
  /** Our own URLs, learned when a dial reached ourselves. */
  readonly selfUrls = new Set<string>();
  /** URLs kept connected by the operator (connect/addnode). */
  readonly manual = new Set<string>();
  stopping = false;
  /** Core's fNetworkActive: false while setnetworkactive false holds (no peers, dials or accepts). */
  private active = true;
  private readonly manualTry = new Map<string, number>();
  /** The last write of peers.json failed (said once until one works). */
  private bookSaveFailed = false;
  /**
   * Misbehaving remote hosts, discouraged as Core does (not a ban: in memory only, not listed by
   * listbanned): their addresses are not dialled; their inbound connections are taken only while
   * the inbound slots are not (almost) full, and are the first evicted (admission, onInbound).
   */
  private readonly discouraged = new BoundedSet<string>(MAX_DISCOURAGED);
  /** Per-node secret for the eviction's keyed group order. */
  private readonly groupSecret = randomBytes(16);
  /** One peer message per event-loop iteration, peers in turn (peer.ts). */
  private readonly turns = new Turns();
  private nextId = 1;
  private server?: Server;
  private wss?: WebSocketServer;
  private boundPort = 0;
  private advertised = '';
  /** Bytes of connections already closed (getnettotals counts them too). */
  private closedSent = 0;
  private closedRecv = 0;
  private readonly opts: P2PNodeOptions;
  private readonly params: P2PNetworkParams;
  private readonly log: Logger;
  /** Core's -whitelist noban subnets (inbound peers only, as Core's default direction). */
  private readonly noban: Subnet[];

  constructor(private readonly ctx: ConnContext) {
    this.opts = ctx.opts;
    this.params = ctx.params;
    this.log = ctx.log;
    this.noban = (this.opts.noban ?? []).map((n) => {
      const net = parseSubnet(n);
      if (!net) throw new Error(`not an address or subnet: ${n}`);
      return net;
    });
    for (const u of [...(this.opts.connect ?? []), ...(this.opts.addnode ?? [])]) {
      const url = normalizeUrl(u, this.params.defaultPort);
      if (!url) throw new Error(`not a peer address: ${u}`);
      this.manual.add(url);
    }
  }

  get targetOutbound(): number {
    return this.opts.targetOutbound ?? 8;
  }
  get maxConnections(): number {
    return this.opts.maxConnections ?? 125;
  }

  /** The port actually listened on (after listen), 0 when not listening. */
  get port(): number {
    return this.boundPort;
  }

  /** The URL announced to peers ('' when none). */
  get url(): string {
    return this.advertised;
  }

  async listen(): Promise<void> {
    const bind = this.opts.bind ?? '127.0.0.1';
    // The HTTP server is ours (ws's noServer mode): a connection the node will not serve is
    // answered at the HTTP upgrade, before any WebSocket is made for it (onUpgrade).
    const wss = new WebSocketServer({
      noServer: true,
      // Raised to MAX_MESSAGE once the peer's version is accepted (Peer.acceptFullMessages).
      maxPayload: MAX_HANDSHAKE_MESSAGE,
      perMessageDeflate: false,
      clientTracking: false,
    });
    // A plain HTTP request (no upgrade) gets what ws's own server answers: 426 Upgrade Required.
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(STATUS_CODES[426]);
    });
    // Connections still in their HTTP request (not yet upgraded or refused) are bounded: at most
    // MAX_PENDING_REQUESTS or maxconnections, whichever is more (Core has no request stage: it
    // closes an accepted socket beyond its slots at once), each given the version handshake's
    // time to send its request (Core's -peertimeout, 60 s). A socket past the bound is closed
    // unread.
    server.on('connection', (socket: Socket) => {
      if (this.pendingUpgrades.size >= Math.max(MAX_PENDING_REQUESTS, this.maxConnections)) {
        socket.on('error', () => undefined);
        socket.destroy();
        this.log.debug(
          { pending: this.pendingUpgrades.size },
          'inbound connection refused: too many in their request',
        );
        return;
      }
      this.pendingUpgrades.add(socket);
      socket.once('close', () => this.pendingUpgrades.delete(socket));
      socket.setTimeout(this.ctx.timeouts.handshakeMs, () => socket.destroy());
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.pendingUpgrades.delete(req.socket);
      req.socket.setTimeout(0);
      this.onUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(this.opts.port ?? this.params.defaultPort, bind);
    });
    server.on('error', (err) => this.log.error({ err }, 'listen socket error'));
    wss.on('error', (err) => this.log.error({ err }, 'listen socket error'));
    this.server = server;
    this.wss = wss;
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    const all = bind === '0.0.0.0' || bind === '::';
    this.advertised =
      this.opts.externalUrl ??
      (all ? '' : endpointToUrl({ host: bind, port: this.boundPort, secure: false }));
    this.log.info({ bind, port: this.boundPort, url: this.advertised }, 'listening');
  }

  /** Closes every peer and the listen socket. */
  async close(): Promise<void> {
    this.stopping = true;
    for (const p of this.peers.values()) {
      p.close('shutdown');
      p.ws.terminate();
    }
    this.peers.clear();
    this.wss?.close();
    if (this.server) {
      const s = this.server;
      const closed = new Promise<void>((r) => s.close(() => r()));
      // Connections still in their HTTP request (never upgraded) would hold close() open.
      s.closeAllConnections();
      await closed;
    }
  }

  /** Inbound sockets still in their HTTP request (bounded by MAX_PENDING_REQUESTS; see listen). */
  private readonly pendingUpgrades = new Set<Socket>();

  readyPeers(): Peer[] {
    return [...this.peers.values()].filter((p) => p.ready && !p.closed);
  }

  /**
   * An inbound connection's HTTP upgrade: refused (banned, network off, no slot and nobody to
   * evict) with a plain HTTP error and the socket closed, as Core's AcceptConnection closes an
   * accepted socket at once; no WebSocket is made for it, so what it sends next is never read.
   * Otherwise upgraded, and the peer added in the same synchronous step (ws's handleUpgrade calls
   * back at once), so the slot it was judged to have cannot be taken in between.
   */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node's HTTP server drops its listeners from an upgraded socket: without this one, a reset
    // from a refused peer would be an uncaught error.
    const onError = (err: Error): void => this.log.debug({ err: err.message }, 'inbound socket error');
    socket.on('error', onError);
    try {
      const host = normalizeHost(req.socket.remoteAddress ?? '');
      // Core's AcceptConnection: bans and discouragement do not apply to a noban peer.
      const noban = this.noban.some((net) => subnetContains(net, host));
      const refusal = this.admission(host, noban);
      if (refusal || !this.wss) {
        refuseUpgrade(socket, refusal ?? { status: 503, reason: 'not listening' });
        this.log.debug({ host, reason: refusal?.reason }, 'inbound connection refused');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', onError);
        this.onInbound(ws, req, host, noban);
      });
    } catch (err) {
      this.log.error({ err }, 'error handling an inbound connection');
      socket.destroy();
    }
  }

  /** Why a connection from `host` is refused at once, or null when it may have a slot. */
  private admission(host: string, noban: boolean): Refusal | null {
    if (this.stopping) return { status: 503, reason: 'shutting down' };
    if (!this.active) return { status: 503, reason: 'network not active' };
    if (!noban && this.bans.isBanned(host)) return { status: 403, reason: 'banned' };
    // Core's CreateNodeFromAcceptedSocket: a discouraged host is dropped only when
    // `nInbound + 1 >= m_max_inbound`, so that it cannot take the last slot.
    if (!noban && this.discouraged.has(host) && this.inboundCount() + 1 >= this.maxInbound)
      return { status: 403, reason: 'discouraged' };
    if (this.inboundRoom() === null) return { status: 503, reason: 'too many connections' };
    return null;
  }

  /** Core's m_max_inbound: the connections not kept for outbound. */
  private get maxInbound(): number {
    return Math.max(0, this.maxConnections - this.targetOutbound);
  }

  private inboundCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.inbound && !p.closed) n++;
    return n;
  }

  private onInbound(ws: WebSocket, req: IncomingMessage, host: string, noban: boolean): void {
    // Judged free or evictable by admission() in this same synchronous step.
    const room = this.inboundRoom();
    if (room === null) {
      this.refuse(ws, 1013, 'too many connections');
      return;
    }
    if (room !== 'free') {
      this.log.info({ peer: room.label }, 'inbound slots full: evicting a peer for a newcomer');
      this.disconnect(room, 'evicted for a newcomer');
    }
    const peer = this.addPeer(ws, true, host, '');
    peer.noban = noban;
    // Core's m_prefer_evict: set at accept from the host's discouragement, never changed later.
    peer.preferEvict = this.discouraged.has(host);
    peer.remoteAddress = host;
    peer.remotePort = req.socket.remotePort ?? 0;
    peer.localAddress = normalizeHost(req.socket.localAddress ?? '');
    peer.localPort = req.socket.localPort ?? 0;
  }

  /**
   * Closes a WebSocket we will not serve after all. Whatever it sends meanwhile (an oversized
   * frame included) is an error event on a socket with a listener, never an exception out of the
   * event loop.
   */
  private refuse(ws: WebSocket, code: number, reason: string): void {
    ws.on('error', (err) => this.log.debug({ err: err.message, reason }, 'refused socket error'));
    ws.on('message', () => {});
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
    }
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /**
   * Whether an inbound slot is free ('free'), else the inbound peer Core's eviction would drop for
   * a newcomer, or null when every one is protected.
   */
  private inboundRoom(): 'free' | Peer | null {
    if (this.inboundCount() < this.maxInbound) return 'free';
    const inbound = [...this.peers.values()].filter((p) => p.inbound && !p.closed);
    const byId = new Map(inbound.map((p) => [p.id, p]));
    // Core's AttemptToEvictConnection: a noban peer is never a candidate.
    const victim = selectEviction(inbound.filter((p) => !p.noban).map((p) => this.evictionCandidate(p)));
    return (victim === null ? undefined : byId.get(victim)) ?? null;
  }

  private evictionCandidate(p: Peer): EvictionCandidate {
    const group = netGroup(p.host);
    const h = createHash('sha256').update(this.groupSecret).update(group).digest();
    return {
      id: p.id,
      group,
      groupKey: h.readUInt32LE(0),
      connectedAt: p.connectedAt,
      minPingMs: p.minPingMs,
      lastTxTime: p.lastTxTime,
      lastBlockTime: p.lastBlockTime,
      preferEvict: p.preferEvict,
    };
  }

  /** Whether a host was discouraged for misbehaving (since start; not persisted, as Core). */
  isDiscouraged(host: string): boolean {
    return this.discouraged.has(normalizeHost(host));
  }

  /** Whether an address from the book may be dialled: routable, unless configured otherwise. */
  private dialable(host: string): boolean {
    return this.opts.allowLocalAddrs === true || isRoutable(host);
  }

  private get bans(): BanList {
    return this.ctx.bans;
  }

  dial(url: string, manual = false): void {
    const ep = parseEndpoint(url, this.params.defaultPort);
    if (!ep || this.stopping || !this.active) return;
    const host = normalizeHost(ep.host);
    this.ctx.book.attempt(url);
    const ws = new WebSocket(url, {
      maxPayload: MAX_HANDSHAKE_MESSAGE,
      perMessageDeflate: false,
      handshakeTimeout: this.ctx.timeouts.handshakeMs,
    });
    const peer = this.addPeer(ws, false, host, url);
    peer.manual = manual;
    ws.on('upgrade', (res) => {
      peer.remoteAddress = normalizeHost(res.socket.remoteAddress ?? '');
      peer.remotePort = res.socket.remotePort ?? 0;
      peer.localAddress = normalizeHost(res.socket.localAddress ?? '');
      peer.localPort = res.socket.localPort ?? 0;
    });
    ws.on('open', () => this.ctx.hooks.onOpen(peer));
  }

  private addPeer(ws: WebSocket, inbound: boolean, host: string, url: string): Peer {
    const nonce = randomBytes(8).readBigUInt64LE();
    const peer = new Peer(
      this.nextId++,
      ws,
      inbound,
      host,
      url,
      nonce,
      (p, d) => this.ctx.hooks.onData(p, d),
      { maxQueue: this.opts.maxQueue ?? 64, maxQueueBytes: this.opts.maxReceiveBuffer, turns: this.turns },
    );
    this.peers.set(peer.id, peer);
    // No socket event may throw out of its handler: a bug here costs one peer, not the node.
    const guard =
      <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
      (...args: A): void => {
        try {
          fn(...args);
        } catch (err) {
          this.log.error({ peer: peer.label, err }, `error handling socket ${what}`);
          try {
            peer.close(`internal error on ${what}`);
          } catch {
            ws.terminate();
          }
        }
      };
    ws.on(
      'message',
      guard('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary) {
          this.misbehave(peer, 100, 'text frame');
          return;
        }
        // A plain Uint8Array view: Buffer's slice() would not copy, and decoded hashes and
        // scripts must not pin the socket's receive buffers.
        const buf = data as Buffer;
        peer.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      }),
    );
    ws.on(
      'error',
      guard('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.misbehave(peer, 100, 'oversized message');
        else this.log.debug({ peer: peer.label, err: err.message }, 'socket error');
      }),
    );
    ws.on(
      'close',
      guard('close', () => this.onClose(peer)),
    );
    return peer;
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    peer.closed = true;
    this.closedSent += peer.bytesSent;
    this.closedRecv += peer.bytesRecv;
    const reason = peer.closeReason || 'closed by peer';
    this.log.debug({ peer: peer.label, reason }, 'disconnected');
    this.ctx.hooks.onClosed(peer);
    if (!this.stopping) {
      this.ctx.events.emit('disconnect', this.ctx.hooks.info(peer), reason);
      this.ctx.hooks.afterClose();
    }
  }

  disconnect(peer: Peer, reason: string): void {
    this.log.debug({ peer: peer.label, reason }, 'disconnecting');
    peer.close(reason);
  }

  private connectedUrls(): Set<string> {
    const s = new Set<string>();
    for (const p of this.peers.values()) {
      // An inbound peer's announced URL counts only when it names the address it connects from:
      // otherwise a peer could claim our seeds' URLs and keep us from dialling them.
      if (
        p.url &&
        (!p.inbound || normalizeHost(parseEndpoint(p.url, this.params.defaultPort)?.host ?? '') === p.host)
      ) {
        s.add(p.url);
      }
    }
    return s;
  }

  get networkActive(): boolean {
    return this.active;
  }

  /**
   * Core's SetNetworkActive: false closes every connection, then accepts none and dials none
   * (addnode entries are kept and dialled again once true); true resumes dialling at once.
   */
  setNetworkActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.log.info({ active }, 'SetNetworkActive');
    if (!active) for (const p of [...this.peers.values()]) this.disconnect(p, 'network not active');
    else this.maintainConnections();
  }

  maintainConnections(): void {
    if (this.stopping || !this.active) return;
    const now = Date.now();
    const connected = this.connectedUrls();
    for (const url of this.manual) {
      if (connected.has(url) || this.selfUrls.has(url)) continue;
      if (now - (this.manualTry.get(url) ?? 0) < this.ctx.timeouts.retryMs) continue;
      this.manualTry.set(url, now);
      this.dial(url, true);
    }
    if (this.opts.connect?.length) return;
    const auto = [...this.peers.values()].filter((p) => !p.inbound && !this.manual.has(p.url)).length;
    const need = this.targetOutbound - auto;
    if (need <= 0) return;
    const exclude = (url: string): boolean => {
      if (connected.has(url) || this.selfUrls.has(url) || url === this.advertised) return true;
      const ep = parseEndpoint(url, this.params.defaultPort);
      if (!ep || this.bans.isBanned(ep.host) || this.discouraged.has(normalizeHost(ep.host))) return true;
      // Seeds are configured: a local seed (a test network's) is dialled; gossip is not.
      const seed = this.ctx.book.get(url)?.source === 'seed';
      return !seed && !this.dialable(ep.host);
    };
    for (const url of this.ctx.book.candidates(exclude, this.ctx.timeouts.retryMs, need)) this.dial(url);
  }

  /**
   * Operator's addnode: 'add' keeps a connection, 'remove' forgets it, 'onetry' dials once.
   * Returns false when 'add' finds the node already added or 'remove' finds it not added.
   */
  addNode(address: string, command: 'add' | 'remove' | 'onetry'): boolean {
    const url = normalizeUrl(address, this.params.defaultPort);
    if (!url) throw new Error(`not a peer address: ${address}`);
    if (command === 'add') {
      if (this.manual.has(url)) return false;
      this.manual.add(url);
      this.maintainConnections();
      return true;
    }
    if (command === 'remove') return this.manual.delete(url);
    if (!this.connectedUrls().has(url)) this.dial(url, true);
    return true;
  }

  /** Closes connections to a peer by id or URL; returns whether one was found. */
  disconnectPeer(idOrUrl: number | string): boolean {
    let found = false;
    for (const p of this.peers.values()) {
      if (
        p.id === idOrUrl ||
        (typeof idOrUrl === 'string' && p.url === normalizeUrl(idOrUrl, this.params.defaultPort))
      ) {
        this.disconnect(p, 'disconnected by operator');
        found = true;
      }
    }
    return found;
  }

  /**
   * Bans (or unbans) a host, a peer URL's host, or an IP subnet (`10.0.0.0/8`). Returns false when
   * 'add' finds that exact entry already banned or 'remove' finds it not banned.
   */
  setBan(address: string, command: 'add' | 'remove', banTimeSec = 86_400): boolean {
    const host =
      parseSubnet(address)?.key ??
      normalizeHost(parseEndpoint(address, this.params.defaultPort)?.host ?? address);
    if (command === 'remove') return this.bans.unban(host);
    // As Core: a single address inside a banned subnet counts as already banned.
    if (host.includes('/') ? this.bans.has(host) : this.bans.isBanned(host)) return false;
    this.bans.ban(host, banTimeSec * 1000, 'manually added');
    for (const p of this.peers.values()) {
      if (this.bans.isBanned(p.host) || (p.remoteAddress && this.bans.isBanned(p.remoteAddress)))
        this.disconnect(p, 'banned');
    }
    return true;
  }

  /** Bytes sent and received since start, over all connections, closed ones included. */
  netTotals(): { bytesSent: number; bytesRecv: number } {
    let bytesSent = this.closedSent;
    let bytesRecv = this.closedRecv;
    for (const p of this.peers.values()) {
      bytesSent += p.bytesSent;
      bytesRecv += p.bytesRecv;
    }
    return { bytesSent, bytesRecv };
  }

  connectionCount(): { inbound: number; outbound: number } {
    let inbound = 0;
    for (const p of this.peers.values()) if (p.inbound) inbound++;
    return { inbound, outbound: this.peers.size - inbound };
  }

  /**
   * Adds to a peer's score; at the threshold it is disconnected and, unless it is a loopback peer,
   * its host discouraged. As Core's MaybeDiscourageAndDisconnect: a local peer is only disconnected
   * (it may be our own wallet or miner), and misbehaviour never becomes a persisted ban (only the
   * operator's setban does).
   */
  misbehave(peer: Peer, dos: number, reason: string): void {
    // A closed peer is still scored: a bad block it sent may be judged after it left.
    if (dos <= 0) return;
    peer.score += dos;
    // As Core's Misbehaving (LogDebug(BCLog::NET)): a debug line, so a peer cannot fill the log.
    this.log.debug({ peer: peer.label, dos, score: peer.score, reason }, 'peer misbehaving');
    this.ctx.events.emit('misbehaving', { id: peer.id, host: peer.host, score: peer.score, reason });
    if (peer.score < (this.opts.banThreshold ?? 100)) return;
    // Core's MaybeDiscourageAndDisconnect: a noban peer is neither discouraged nor disconnected.
    if (peer.noban) {
      this.log.warn({ peer: peer.label, reason }, 'not punishing noban peer');
      return;
    }
    if (isLoopback(peer.host) && !this.opts.discourageLocal) {
      this.disconnect(peer, `misbehaving (local peer, not discouraged): ${reason}`);
      return;
    }
    this.discouraged.add(peer.host);
    this.disconnect(peer, `misbehaving: ${reason}`);
  }

  /** Tells the node's listeners that something this peer sent was refused (metrics, supervision). */
  rejected(peer: Peer, item: Omit<RejectedItem, 'peer'>): void {
    this.ctx.events.emit('rejected', { ...item, peer: peer.label });
  }

  /** The per-connection timeouts: handshake, idle, ping; pings a peer when one is due. */
  checkTimeouts(now: number): void {
    const t = this.ctx.timeouts;
    for (const p of this.peers.values()) {
      if (p.closed) continue;
      if (!p.ready) {
        if (now - p.connectedAt > t.handshakeMs) this.disconnect(p, 'handshake timeout');
        continue;
      }
      if (now - p.lastRecv > t.idleMs) {
        this.disconnect(p, 'idle');
        continue;
      }
      if (p.pingNonce !== null && now - p.pingSentAt > t.idleMs) {
        this.disconnect(p, 'ping timeout');
        continue;
      }
      if (p.pingNonce === null && now - p.pingSentAt >= t.pingIntervalMs) this.ping(p);
      if (this.sendStalled(p, now)) this.disconnect(p, 'send stalled: the peer does not read');
    }
  }

  /**
   * Whether a peer has left unsent bytes that did not go down for sendStallMs (Core's "socket
   * sending timeout"). Below SEND_PAUSE_BYTES nothing waits on the peer, so nothing stalls.
   */
  private sendStalled(p: Peer, now: number): boolean {
    const buffered = p.sendBuffered;
    if (buffered < SEND_PAUSE_BYTES || buffered < p.sendWatchBytes || p.sendStuckSince === 0) {
      p.sendStuckSince = buffered < SEND_PAUSE_BYTES ? 0 : now;
      p.sendWatchBytes = buffered;
      return false;
    }
    p.sendWatchBytes = buffered;
    return now - p.sendStuckSince > this.ctx.timeouts.sendStallMs;
  }

  ping(p: Peer): void {
    p.pingNonce = randomBytes(8).readBigUInt64LE();
    p.pingSentAt = Date.now();
    p.send({ command: 'ping', nonce: p.pingNonce });
  }

  /**
   * Writes peers.json when the book changed. Losing this write costs nothing the node needs (the
   * book is rebuilt from peers), so a failure (a full disk) is logged once, not on every tick,
   * until a write works again; the file keeps its last whole version (atomic-file.ts).
   */
  saveBook(): void {
    try {
      this.ctx.book.save();
      this.bookSaveFailed = false;
    } catch (err) {
      if (!this.bookSaveFailed) this.log.error({ err }, 'cannot save the address book; going on without');
      this.bookSaveFailed = true;
    }
  }
}

/**
 * Answers a refused upgrade with a plain HTTP error (the reason as its one-line body) and closes
 * the socket once the answer is written, or after CLOSE_GRACE_MS if the peer never takes it.
 */
function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const body = `${refusal.reason}\n`;
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
      `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

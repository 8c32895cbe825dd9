// The P2P node: listens and dials WebSocket peers, runs the handshake, keeps outbound connections
// at their target and inbound under the cap, syncs headers first then blocks from several peers
// in a moving window, relays blocks and transactions, answers addr/getaddr/mempool, and scores
// misbehaving peers (banning them past the threshold).
// Owns: connection management, sync scheduling, relay and scoring. Does not own: validation (the
// chain and mempool behind ports.ts judge headers, blocks and transactions; p2p turns their
// verdicts into scores). Fails soft: a bad peer is disconnected, an internal error is logged and
// the peer kept; start() rejects only when the listen socket cannot be opened.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { Block, BlockHeader } from '../primitives/block.js';
import { bytesToHex, equalBytes } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import { AddressBook } from './addrbook.js';
import { BanList, normalizeHost, parseSubnet, type BanEntry } from './banlist.js';
import {
  InvType,
  MAX_ADDR,
  MAX_HEADERS,
  MAX_INV,
  MAX_MESSAGE,
  MIN_PEER_PROTOCOL_VERSION,
  MessageError,
  NODE_NETWORK,
  PROTOCOL_VERSION,
  ZERO_ADDR,
  decodeMessage,
  frame,
  type InvItem,
  type Message,
  type TimedNetAddr,
  type VersionPayload,
} from './messages.js';
import { endpointToUrl, ipToBytes, normalizeUrl, parseEndpoint } from './netaddr.js';
import { Peer } from './peer.js';
import type { Logger, P2PChain, P2PMempool, P2PNetworkParams } from './ports.js';

export interface P2PTimeouts {
  /** A connection must complete version/verack within this. Core: 60 s. */
  handshakeMs: number;
  pingIntervalMs: number;
  /** Nothing received (not even a pong) for this long: disconnect. Core: 20 min. */
  idleMs: number;
  /** A peer with blocks in flight that delivers none for this long is replaced. */
  blockStallMs: number;
  /** The headers-sync peer must answer getheaders within this. */
  headersMs: number;
  /** A transaction asked for and not delivered is forgotten (asked elsewhere on the next inv). */
  txRequestMs: number;
  /** Base back-off before redialling an address (doubles per failed attempt). */
  retryMs: number;
  /** Period of the maintenance timer (timeouts, pings, dialling). */
  tickMs: number;
}

export const DEFAULT_TIMEOUTS: P2PTimeouts = {
  handshakeMs: 60_000,
  pingIntervalMs: 120_000,
  idleMs: 20 * 60_000,
  blockStallMs: 30_000,
  headersMs: 120_000,
  txRequestMs: 60_000,
  retryMs: 5_000,
  tickMs: 1_000,
};

/** BIP14 user agent sent in `version` unless the node is given another. */
export const DEFAULT_USER_AGENT = '/Tally:0.1.0/';

export interface P2PNodeOptions {
  params: P2PNetworkParams;
  chain: P2PChain;
  mempool?: P2PMempool;
  /** Accept inbound connections (default true). */
  listen?: boolean;
  /** Listen port; 0 picks a free one (default params.defaultPort). */
  port?: number;
  /** Listen address (default 127.0.0.1; '0.0.0.0' or '::' for all interfaces). */
  bind?: string;
  /** The URL announced to peers (version.wsurl); default ws://<bind>:<port> unless bound to all. */
  externalUrl?: string;
  /** Dial only these peers (no address book, no seeds). */
  connect?: string[];
  /** Keep connections to these peers in addition to the automatic ones. */
  addnode?: string[];
  /** Add the network's seeds to the address book (default: true unless `connect` is given). */
  useSeeds?: boolean;
  /** JSON file of the address book (persisted across restarts). */
  peersFile?: string;
  /** JSON file of the ban list. */
  banlistFile?: string;
  /** Outbound connections kept open (default 8). */
  targetOutbound?: number;
  /** All connections (default 125); inbound get what outbound do not reserve. */
  maxConnections?: number;
  userAgent?: string;
  /** Misbehaviour score that bans (default 100, as Core). */
  banThreshold?: number;
  /** How long a misbehaving peer's host stays banned (default 24 h, as Core's -bantime). */
  banTimeMs?: number;
  /** Blocks ahead of the tip that may be requested or held at once (default 1024). */
  downloadWindow?: number;
  /** Blocks in flight per peer (default 16, as Core). */
  maxBlocksInFlightPerPeer?: number;
  /** Messages queued per peer before its socket is paused (default 64). */
  maxQueue?: number;
  timeouts?: Partial<P2PTimeouts>;
  logger?: Logger;
}

export interface PeerInfo {
  id: number;
  url: string;
  host: string;
  /** The socket's remote IP and port ('' and 0 until the socket is open). */
  remoteAddress: string;
  remotePort: number;
  /** Our end of the socket ('' and 0 until the socket is open). */
  localAddress: string;
  localPort: number;
  inbound: boolean;
  /** Dialled because the operator named it (connect/addnode), not from the address book. */
  manual: boolean;
  ready: boolean;
  version: number;
  subver: string;
  services: string;
  /** The peer asked for transaction relay (version.relay). */
  relayTxs: boolean;
  /** Seconds the peer's clock is ahead of ours, from its version timestamp. */
  timeOffset: number;
  startingHeight: number;
  bestHeight: number;
  /** Best validated header height the peer sent or announced; -1 when none. */
  syncedHeaders: number;
  banScore: number;
  pingMs: number | null;
  minPingMs: number | null;
  /** How long the outstanding ping has waited, null when none is outstanding. */
  pingWaitMs: number | null;
  bytesSent: number;
  bytesRecv: number;
  /** Unix ms of the last message sent / received (0 = none). */
  lastSend: number;
  lastRecv: number;
  connectedAt: number;
  blocksInFlight: number;
  /** Heights of the blocks requested from this peer and not yet received. */
  inFlightHeights: number[];
  sendHeaders: boolean;
}

export interface SyncProgress {
  /** Best validated header height. */
  headers: number;
  /** Connected block height. */
  blocks: number;
  /** Connected peers that finished the handshake. */
  peers: number;
  /** True while headers or blocks are being caught up. */
  syncing: boolean;
  /** blocks / headers, 0..1. */
  fraction: number;
  /** Over the last ~30 s. */
  blocksPerSecond: number;
  /** null while no rate is known. */
  estimatedSecondsLeft: number | null;
}

export interface P2PNodeEvents {
  /** A peer finished the handshake. */
  ready: [PeerInfo];
  disconnect: [PeerInfo, string];
  misbehaving: [{ id: number; host: string; score: number; reason: string }];
}

type HeldBlock = { block: Block; from: Peer };

const nullHash = new Uint8Array(32);
const key = (hash: Uint8Array): string => bytesToHex(hash);
const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

export class P2PNode extends EventEmitter<P2PNodeEvents> {
  readonly params: P2PNetworkParams;
  readonly chain: P2PChain;
  readonly mempool?: P2PMempool;
  readonly book: AddressBook;
  readonly bans: BanList;
  readonly timeouts: P2PTimeouts;
  private readonly log: Logger;
  private readonly opts: P2PNodeOptions;
  private readonly peers = new Map<number, Peer>();
  private nextId = 1;
  private server?: WebSocketServer;
  private boundPort = 0;
  private advertised = '';
  private tickTimer?: NodeJS.Timeout;
  private unsubs: (() => void)[] = [];
  private stopping = false;
  private readonly selfUrls = new Set<string>();
  private readonly manual = new Set<string>();
  private readonly manualTry = new Map<string, number>();
  // Sync state.
  private syncPeer: Peer | null = null;
  private syncProgressAt = 0;
  private readonly headersDone = new Set<number>();
  private readonly inFlight = new Map<string, { peer: Peer; height: number; at: number }>();
  private readonly held = new Map<string, HeldBlock>();
  private connecting = false;
  private connectAgain = false;
  private readonly txInFlight = new Map<string, { peer: number; at: number }>();
  private readonly relayedAddrs = new Set<string>();
  private readonly rate: { t: number; h: number }[] = [];
  /** Bytes of connections already closed (getnettotals counts them too). */
  private closedSent = 0;
  private closedRecv = 0;

  constructor(opts: P2PNodeOptions) {
    super();
    this.opts = opts;
    this.params = opts.params;
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.log = opts.logger ?? silent;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.book = new AddressBook({ file: opts.peersFile });
    this.bans = new BanList(opts.banlistFile);
    for (const u of [...(opts.connect ?? []), ...(opts.addnode ?? [])]) {
      const url = normalizeUrl(u, opts.params.defaultPort);
      if (!url) throw new Error(`not a peer address: ${u}`);
      this.manual.add(url);
    }
  }

  private get targetOutbound(): number {
    return this.opts.targetOutbound ?? 8;
  }
  private get maxConnections(): number {
    return this.opts.maxConnections ?? 125;
  }
  private get window(): number {
    return this.opts.downloadWindow ?? 1024;
  }
  private get perPeer(): number {
    return this.opts.maxBlocksInFlightPerPeer ?? 16;
  }

  /** The port actually listened on (after start), 0 when not listening. */
  get port(): number {
    return this.boundPort;
  }

  /** The URL announced to peers ('' when none). */
  get url(): string {
    return this.advertised;
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
    if (this.opts.listen ?? true) await this.listen();
    this.unsubs.push(this.chain.onTip((hash, height) => this.onTip(hash, height)));
    if (this.mempool) this.unsubs.push(this.mempool.onAccepted((tx) => this.onTxAccepted(tx)));
    this.tickTimer = setInterval(() => this.tick(), this.timeouts.tickMs);
    this.tickTimer.unref();
    this.maintainConnections();
  }

  private async listen(): Promise<void> {
    const bind = this.opts.bind ?? '127.0.0.1';
    const server = new WebSocketServer({
      host: bind,
      port: this.opts.port ?? this.params.defaultPort,
      maxPayload: MAX_MESSAGE,
      perMessageDeflate: false,
      clientTracking: false,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('error', (err) => this.log.error({ err }, 'listen socket error'));
    server.on('connection', (ws, req) => this.onInbound(ws, req));
    this.server = server;
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    const all = bind === '0.0.0.0' || bind === '::';
    this.advertised =
      this.opts.externalUrl ??
      (all ? '' : endpointToUrl({ host: bind, port: this.boundPort, secure: false }));
    this.log.info({ bind, port: this.boundPort, url: this.advertised }, 'listening');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const u of this.unsubs) u();
    this.unsubs = [];
    for (const p of this.peers.values()) {
      p.close('shutdown');
      p.ws.terminate();
    }
    this.peers.clear();
    if (this.server) {
      const s = this.server;
      await new Promise<void>((r) => s.close(() => r()));
    }
    try {
      this.book.save();
    } catch (err) {
      this.log.error({ err }, 'cannot save the address book');
    }
  }

  // ---------------------------------------------------------------- connections

  private onInbound(ws: WebSocket, req: IncomingMessage): void {
    const host = normalizeHost(req.socket.remoteAddress ?? '');
    if (this.stopping || this.bans.isBanned(host)) {
      ws.close(1008, 'banned');
      return;
    }
    const inbound = [...this.peers.values()].filter((p) => p.inbound).length;
    if (inbound >= Math.max(0, this.maxConnections - this.targetOutbound)) {
      ws.close(1013, 'too many connections');
      return;
    }
    const peer = this.addPeer(ws, true, host, '');
    peer.remoteAddress = normalizeHost(req.socket.remoteAddress ?? '');
    peer.remotePort = req.socket.remotePort ?? 0;
    peer.localAddress = normalizeHost(req.socket.localAddress ?? '');
    peer.localPort = req.socket.localPort ?? 0;
  }

  private dial(url: string, manual = false): void {
    const ep = parseEndpoint(url, this.params.defaultPort);
    if (!ep || this.stopping) return;
    const host = normalizeHost(ep.host);
    this.book.attempt(url);
    const ws = new WebSocket(url, {
      maxPayload: MAX_MESSAGE,
      perMessageDeflate: false,
      handshakeTimeout: this.timeouts.handshakeMs,
    });
    const peer = this.addPeer(ws, false, host, url);
    peer.manual = manual;
    ws.on('upgrade', (res) => {
      peer.remoteAddress = normalizeHost(res.socket.remoteAddress ?? '');
      peer.remotePort = res.socket.remotePort ?? 0;
      peer.localAddress = normalizeHost(res.socket.localAddress ?? '');
      peer.localPort = res.socket.localPort ?? 0;
    });
    ws.on('open', () => this.sendVersion(peer));
  }

  private addPeer(ws: WebSocket, inbound: boolean, host: string, url: string): Peer {
    const nonce = randomBytes(8).readBigUInt64LE();
    const peer = new Peer(this.nextId++, ws, inbound, host, url, nonce, (p, d) => this.onData(p, d), {
      maxQueue: this.opts.maxQueue ?? 64,
    });
    this.peers.set(peer.id, peer);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.misbehave(peer, 100, 'text frame');
        return;
      }
      // A plain Uint8Array view: Buffer's slice() would not copy, and decoded hashes and
      // scripts must not pin the socket's receive buffers.
      const buf = data as Buffer;
      peer.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.misbehave(peer, 100, 'oversized message');
      else this.log.debug({ peer: peer.label, err: err.message }, 'socket error');
    });
    ws.on('close', () => this.onClose(peer));
    return peer;
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    peer.closed = true;
    this.closedSent += peer.bytesSent;
    this.closedRecv += peer.bytesRecv;
    const reason = peer.closeReason || 'closed by peer';
    this.log.debug({ peer: peer.label, reason }, 'disconnected');
    for (const [k, f] of this.inFlight) if (f.peer === peer) this.inFlight.delete(k);
    for (const [k, t] of this.txInFlight) if (t.peer === peer.id) this.txInFlight.delete(k);
    if (this.syncPeer === peer) this.syncPeer = null;
    this.headersDone.delete(peer.id);
    if (!this.stopping) {
      this.emit('disconnect', this.info(peer), reason);
      this.scheduleDownloads();
      this.maybeStartHeadersSync();
    }
  }

  private disconnect(peer: Peer, reason: string): void {
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

  private maintainConnections(): void {
    if (this.stopping) return;
    const now = Date.now();
    const connected = this.connectedUrls();
    for (const url of this.manual) {
      if (connected.has(url) || this.selfUrls.has(url)) continue;
      if (now - (this.manualTry.get(url) ?? 0) < this.timeouts.retryMs) continue;
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
      return !ep || this.bans.isBanned(ep.host);
    };
    for (const url of this.book.candidates(exclude, this.timeouts.retryMs, need)) this.dial(url);
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

  /** URLs kept connected by addnode 'add' (and the `connect`/`addnode` options). */
  addedNodes(): string[] {
    return [...this.manual];
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

  // ---------------------------------------------------------------- operator: bans

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

  listBanned(): BanEntry[] {
    return this.bans.list();
  }

  clearBanned(): void {
    this.bans.clear();
  }

  // ---------------------------------------------------------------- status

  /** The user agent announced in version. */
  get userAgent(): string {
    return this.opts.userAgent ?? DEFAULT_USER_AGENT;
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

  /** Operator's ping: pings every ready peer now, except those with a ping still unanswered. */
  pingPeers(): void {
    for (const p of this.readyPeers()) if (p.pingNonce === null) this.ping(p);
  }

  private info(p: Peer): PeerInfo {
    const inFlightHeights: number[] = [];
    if (p.blocksInFlight.size > 0) {
      for (const f of this.inFlight.values()) if (f.peer === p) inFlightHeights.push(f.height);
      inFlightHeights.sort((a, b) => a - b);
    }
    return {
      id: p.id,
      url: p.url,
      host: p.host,
      remoteAddress: p.remoteAddress,
      remotePort: p.remotePort,
      localAddress: p.localAddress,
      localPort: p.localPort,
      inbound: p.inbound,
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
      inFlightHeights,
      sendHeaders: p.sendHeaders,
    };
  }

  peerInfo(): PeerInfo[] {
    return [...this.peers.values()].map((p) => this.info(p));
  }

  connectionCount(): { inbound: number; outbound: number } {
    let inbound = 0;
    for (const p of this.peers.values()) if (p.inbound) inbound++;
    return { inbound, outbound: this.peers.size - inbound };
  }

  progress(): SyncProgress {
    const headers = this.chain.headerTipHeight();
    const blocks = this.chain.tipHeight();
    const now = Date.now();
    while (this.rate.length > 1 && now - this.rate[0].t > 30_000) this.rate.shift();
    let bps = 0;
    if (this.rate.length > 1) {
      const a = this.rate[0];
      const b = this.rate[this.rate.length - 1];
      if (b.t > a.t) bps = ((b.h - a.h) * 1000) / (b.t - a.t);
    }
    const peerHeight = Math.max(
      0,
      ...[...this.peers.values()].filter((p) => p.ready).map((p) => p.bestHeight),
    );
    const syncing = blocks < headers || this.syncPeer !== null || peerHeight > headers;
    const target = Math.max(headers, peerHeight);
    return {
      headers,
      blocks,
      peers: [...this.peers.values()].filter((p) => p.ready).length,
      syncing,
      fraction: target > 0 ? Math.min(1, blocks / target) : 1,
      blocksPerSecond: bps,
      estimatedSecondsLeft: !syncing ? 0 : bps > 0 ? (target - blocks) / bps : null,
    };
  }

  // ---------------------------------------------------------------- scoring

  /** Adds to a peer's score; at the threshold its host is banned and it is disconnected. */
  misbehave(peer: Peer, dos: number, reason: string): void {
    // A closed peer is still scored: a bad block it sent may be judged after it left.
    if (dos <= 0) return;
    peer.score += dos;
    this.log.warn({ peer: peer.label, dos, score: peer.score, reason }, 'peer misbehaving');
    this.emit('misbehaving', { id: peer.id, host: peer.host, score: peer.score, reason });
    if (peer.score >= (this.opts.banThreshold ?? 100)) {
      if (!this.bans.isBanned(peer.host)) this.bans.ban(peer.host, this.opts.banTimeMs ?? 86_400_000, reason);
      this.disconnect(peer, `misbehaving: ${reason}`);
    }
  }

  // ---------------------------------------------------------------- timers

  private tick(): void {
    const now = Date.now();
    const t = this.timeouts;
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
      if (p.blocksInFlight.size > 0 && now - p.lastBlockProgress > t.blockStallMs) {
        this.disconnect(p, 'stalled block download');
      }
    }
    if (this.syncPeer && now - this.syncProgressAt > t.headersMs) {
      this.disconnect(this.syncPeer, 'headers sync timeout');
      this.syncPeer = null;
    }
    for (const [k, v] of this.txInFlight) if (now - v.at > t.txRequestMs) this.txInFlight.delete(k);
    this.maintainConnections();
    this.scheduleDownloads();
    try {
      this.book.save();
    } catch (err) {
      this.log.error({ err }, 'cannot save the address book');
    }
  }

  private ping(p: Peer): void {
    p.pingNonce = randomBytes(8).readBigUInt64LE();
    p.pingSentAt = Date.now();
    p.send({ command: 'ping', nonce: p.pingNonce });
  }

  // ---------------------------------------------------------------- messages

  private async onData(peer: Peer, data: Uint8Array): Promise<void> {
    let msg: Message;
    try {
      msg = decodeMessage(data);
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      this.misbehave(peer, e.dos, `malformed message: ${e.message}`);
      return;
    }
    if (peer.closed) return;
    try {
      await this.dispatch(peer, msg);
    } catch (err) {
      this.log.error({ peer: peer.label, command: msg.command, err }, 'error handling message');
    }
  }

  private async dispatch(peer: Peer, msg: Message): Promise<void> {
    if (msg.command === 'unknown') return; // As Core: unknown commands are ignored, unscored.
    if (msg.command === 'version') return this.onVersion(peer, msg);
    if (!peer.version) {
      this.misbehave(peer, 1, `${msg.command} before version`);
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
        return this.onGetAddr(peer);
      case 'addr':
        return this.onAddr(peer, msg.addrs);
      case 'inv':
        return this.onInv(peer, msg.items);
      case 'getdata':
        return this.onGetData(peer, msg.items);
      case 'notfound':
        return this.onNotFound(peer, msg.items);
      case 'getheaders':
        peer.send({
          command: 'headers',
          headers: this.chain.getHeadersAfter(msg.locator, msg.stop, MAX_HEADERS),
        });
        return;
      case 'headers':
        return this.onHeaders(peer, msg.headers);
      case 'block':
        return this.onBlock(peer, msg.block);
      case 'tx':
        return this.onTx(peer, msg.tx);
      case 'mempool':
        return this.onMempool(peer);
    }
  }

  private sendVersion(peer: Peer): void {
    const ep = peer.inbound ? null : parseEndpoint(peer.url, this.params.defaultPort);
    const recvHost = peer.inbound ? peer.host : ep?.host;
    const v: VersionPayload = {
      version: PROTOCOL_VERSION,
      services: NODE_NETWORK,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      addrRecv:
        recvHost && ipToBytes(recvHost) ? { services: 0n, host: recvHost, port: ep?.port ?? 0 } : ZERO_ADDR,
      addrFrom: ZERO_ADDR,
      nonce: peer.localNonce,
      userAgent: this.opts.userAgent ?? DEFAULT_USER_AGENT,
      startHeight: this.chain.tipHeight(),
      relay: this.mempool !== undefined,
      magic: this.params.magic,
      wsurl: this.advertised,
    };
    peer.send({ command: 'version', ...v });
  }

  private onVersion(peer: Peer, v: VersionPayload): void {
    if (peer.version) {
      this.misbehave(peer, 1, 'duplicate version');
      return;
    }
    if (!equalBytes(v.magic, this.params.magic)) {
      // Another network's node is not malicious: disconnect, forget the address, do not ban.
      this.disconnect(peer, 'wrong network');
      if (!peer.inbound) this.book.remove(peer.url);
      return;
    }
    if (v.version < MIN_PEER_PROTOCOL_VERSION) {
      this.disconnect(peer, `obsolete protocol version ${v.version}`);
      return;
    }
    for (const other of this.peers.values()) {
      if (!other.inbound && other.localNonce === v.nonce) {
        this.selfUrls.add(other.url);
        this.disconnect(other, 'connected to self');
        this.disconnect(peer, 'connected to self');
        return;
      }
    }
    peer.version = v;
    peer.timeOffset = Number(v.timestamp) - Math.floor(Date.now() / 1000);
    peer.bestHeight = Math.max(0, v.startHeight);
    if (peer.inbound) {
      const url = v.wsurl ? normalizeUrl(v.wsurl, this.params.defaultPort) : null;
      if (url) {
        peer.url = url;
        this.book.add(url, 'announce');
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
      if (this.book.size < 1000) peer.send({ command: 'getaddr' });
    }
    peer.send({ command: 'sendheaders' });
    this.log.info(
      { peer: peer.label, ua: peer.version?.userAgent, height: peer.bestHeight },
      'peer connected',
    );
    this.emit('ready', this.info(peer));
    this.maybeStartHeadersSync();
    this.scheduleDownloads();
  }

  private readyPeers(): Peer[] {
    return [...this.peers.values()].filter((p) => p.ready && !p.closed);
  }

  // ---------------------------------------------------------------- addresses

  private onGetAddr(peer: Peer): void {
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

  private onAddr(peer: Peer, addrs: TimedNetAddr[]): void {
    const now = Date.now();
    const fresh: TimedNetAddr[] = [];
    for (const a of addrs) {
      if (a.port === 0 || a.host === '0.0.0.0' || a.host === '::') continue;
      const url = endpointToUrl({ host: a.host, port: a.port, secure: false });
      peer.knownAddr.add(url);
      if (url === this.advertised) continue;
      // A time in the future or before 1970+ is replaced, as Core does, by "5 days ago".
      const seen = a.time * 1000 > now + 600_000 || a.time === 0 ? now - 5 * 86_400_000 : a.time * 1000;
      this.book.add(url, 'addr', seen);
      if (addrs.length <= 10 && now - seen < 600_000 && !this.relayedAddrs.has(url)) fresh.push(a);
    }
    if (fresh.length === 0) return;
    for (const a of fresh)
      this.relayedAddrs.add(endpointToUrl({ host: a.host, port: a.port, secure: false }));
    if (this.relayedAddrs.size > 10_000) this.relayedAddrs.clear();
    const others = this.readyPeers().filter((p) => p !== peer);
    for (let i = 0; i < 2 && others.length > 0; i++) {
      const p = others.splice(Math.floor(Math.random() * others.length), 1)[0];
      const send = fresh.filter(
        (a) => !p.knownAddr.has(endpointToUrl({ host: a.host, port: a.port, secure: false })),
      );
      if (send.length > 0) p.send({ command: 'addr', addrs: send });
    }
  }

  // ---------------------------------------------------------------- inventory

  private onInv(peer: Peer, items: InvItem[]): void {
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
    if (unknownBlock && !this.syncPeer) {
      peer.send({
        command: 'getheaders',
        version: PROTOCOL_VERSION,
        locator: this.chain.getLocator(),
        stop: unknownBlock,
      });
    }
    if (wantTx.length > 0) peer.send({ command: 'getdata', items: wantTx });
  }

  private async onGetData(peer: Peer, items: InvItem[]): Promise<void> {
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

  private onNotFound(peer: Peer, items: InvItem[]): void {
    for (const it of items) {
      const k = key(it.hash);
      const f = this.inFlight.get(k);
      if (f && f.peer === peer) {
        this.inFlight.delete(k);
        peer.blocksInFlight.delete(k);
        // Asking the same peer again would loop forever: another peer must serve this block.
        peer.notFound.add(k);
      }
      const t = this.txInFlight.get(k);
      if (t && t.peer === peer.id) this.txInFlight.delete(k);
    }
    this.scheduleDownloads();
  }

  private onMempool(peer: Peer): void {
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

  private async onTx(peer: Peer, tx: Tx): Promise<void> {
    const txid = tx.txid();
    const k = key(txid);
    const req = this.txInFlight.get(k);
    if (!req || req.peer !== peer.id) {
      this.misbehave(peer, 10, 'unrequested transaction');
      return;
    }
    this.txInFlight.delete(k);
    peer.knownInv.add(k);
    if (!this.mempool || this.mempool.has(txid)) return;
    const res = await this.mempool.accept(tx);
    if (!res.accepted && !res.policy && res.dos) {
      this.misbehave(peer, res.dos, `invalid transaction: ${res.reason ?? 'rejected'}`);
    } else if (!res.accepted) {
      this.log.debug(
        { peer: peer.label, txid: tx.txidHex(), reason: res.reason },
        'transaction not accepted',
      );
    }
  }

  private onTxAccepted(tx: Tx): void {
    const txid = tx.txid();
    const k = key(txid);
    for (const p of this.readyPeers()) {
      if (!p.version?.relay || p.knownInv.has(k)) continue;
      p.knownInv.add(k);
      p.send({ command: 'inv', items: [{ type: InvType.TX, hash: txid }] });
    }
  }

  private onTip(hash: Uint8Array, height: number): void {
    this.rate.push({ t: Date.now(), h: height });
    if (this.rate.length > 10_000) this.rate.splice(0, 5_000);
    if (this.chain.isInitialBlockDownload()) return;
    const k = key(hash);
    const header = this.chain.getHeader(hash);
    for (const p of this.readyPeers()) {
      if (p.knownInv.has(k)) continue;
      p.knownInv.add(k);
      if (p.sendHeaders && header) p.send({ command: 'headers', headers: [header] });
      else p.send({ command: 'inv', items: [{ type: InvType.BLOCK, hash }] });
    }
  }

  // ---------------------------------------------------------------- headers sync

  private maybeStartHeadersSync(): void {
    if (this.stopping || (this.syncPeer && !this.syncPeer.closed)) return;
    const ours = this.chain.headerTipHeight();
    let best: Peer | null = null;
    for (const p of this.readyPeers()) {
      if (this.headersDone.has(p.id) || p.bestHeight <= ours) continue;
      if (!best || p.bestHeight > best.bestHeight) best = p;
    }
    if (!best) return;
    this.syncPeer = best;
    this.syncProgressAt = Date.now();
    this.log.info({ peer: best.label, ours, theirs: best.bestHeight }, 'syncing headers');
    this.getHeaders(best, this.chain.getLocator());
  }

  private getHeaders(peer: Peer, locator: Uint8Array[]): void {
    peer.send({ command: 'getheaders', version: PROTOCOL_VERSION, locator, stop: nullHash });
  }

  private async onHeaders(peer: Peer, headers: BlockHeader[]): Promise<void> {
    if (peer === this.syncPeer) this.syncProgressAt = Date.now();
    if (headers.length === 0) {
      this.finishHeadersSync(peer);
      return;
    }
    for (let i = 1; i < headers.length; i++) {
      if (!equalBytes(headers[i].prevHash, headers[i - 1].hash())) {
        this.misbehave(peer, 20, 'non-continuous headers sequence');
        return;
      }
    }
    if (this.chain.headerHeight(headers[0].prevHash) === undefined) {
      // As Core: ask for the gap; a peer that keeps sending headers we cannot connect is scored.
      peer.unconnectingHeaders++;
      if (peer.unconnectingHeaders % 10 === 0) this.misbehave(peer, 20, 'too many unconnecting headers');
      this.getHeaders(peer, this.chain.getLocator());
      return;
    }
    const last = headers[headers.length - 1];
    const res = await this.chain.processHeaders(headers);
    if (!res.ok) {
      if (res.dos) this.misbehave(peer, res.dos, `invalid headers: ${res.reason ?? 'rejected'}`);
      else this.log.debug({ peer: peer.label, reason: res.reason }, 'headers not accepted');
      if (peer === this.syncPeer) this.finishHeadersSync(peer);
      return;
    }
    peer.unconnectingHeaders = 0;
    for (const h of headers) {
      const k = key(h.hash());
      peer.knownInv.add(k);
      // A peer that now announces a block it once had not found can be asked for it again.
      peer.notFound.delete(k);
    }
    const lastHeight = this.chain.headerHeight(last.hash()) ?? 0;
    peer.bestHeight = Math.max(peer.bestHeight, lastHeight);
    peer.syncedHeaders = Math.max(peer.syncedHeaders, lastHeight);
    if (headers.length === MAX_HEADERS) {
      this.getHeaders(peer, this.chain.getLocator(last.hash()));
    } else {
      // A short batch is the peer's tip: its whole chain is now known.
      if (this.chain.isInitialBlockDownload() && this.chain.belowMinimumWork?.(last.hash())) {
        this.disconnect(peer, 'header chain below the minimum chain work');
        return;
      }
      if (peer === this.syncPeer) this.finishHeadersSync(peer);
    }
    this.scheduleDownloads();
  }

  private finishHeadersSync(peer: Peer): void {
    if (peer !== this.syncPeer) return;
    this.headersDone.add(peer.id);
    this.syncPeer = null;
    this.maybeStartHeadersSync();
  }

  // ---------------------------------------------------------------- block download

  private scheduleDownloads(): void {
    if (this.stopping) return;
    const peers = this.readyPeers().filter((p) => p.blocksInFlight.size < this.perPeer);
    if (peers.length === 0) return;
    const wanted = this.chain.blocksToDownload(this.window);
    const requests = new Map<Peer, InvItem[]>();
    const now = Date.now();
    let free = 0;
    for (const p of peers) free += this.perPeer - p.blocksInFlight.size;
    for (const w of wanted) {
      if (free === 0) break;
      const k = key(w.hash);
      if (this.inFlight.has(k) || this.held.has(k)) continue;
      let pick: Peer | null = null;
      for (const p of peers) {
        if (p.blocksInFlight.size >= this.perPeer || p.bestHeight < w.height || p.notFound.has(k)) continue;
        if (!pick || p.blocksInFlight.size < pick.blocksInFlight.size) pick = p;
      }
      if (!pick) continue;
      if (pick.blocksInFlight.size === 0) pick.lastBlockProgress = now;
      pick.blocksInFlight.set(k, now);
      free--;
      this.inFlight.set(k, { peer: pick, height: w.height, at: now });
      const list = requests.get(pick) ?? [];
      list.push({ type: InvType.BLOCK, hash: w.hash });
      requests.set(pick, list);
    }
    for (const [p, items] of requests) p.send({ command: 'getdata', items });
  }

  private async onBlock(peer: Peer, block: Block): Promise<void> {
    const hash = block.hash();
    const k = key(hash);
    const f = this.inFlight.get(k);
    if (!f || f.peer !== peer) {
      if (!this.chain.hasBlock(hash) && !this.held.has(k)) this.misbehave(peer, 20, 'unrequested block');
      return;
    }
    this.inFlight.delete(k);
    peer.blocksInFlight.delete(k);
    peer.syncedHeaders = Math.max(peer.syncedHeaders, f.height);
    peer.lastBlockProgress = Date.now();
    peer.knownInv.add(k);
    this.held.set(k, { block, from: peer });
    await this.connectHeld();
  }

  /** Hands held blocks to the chain in chain order, as far as the next missing one. */
  private async connectHeld(): Promise<void> {
    if (this.connecting) {
      this.connectAgain = true;
      return;
    }
    this.connecting = true;
    try {
      do {
        this.connectAgain = false;
        while (!this.stopping) {
          const next = this.chain.blocksToDownload(1)[0];
          const h = next && this.held.get(key(next.hash));
          if (!h) break;
          this.held.delete(key(next.hash));
          const res = await this.chain.processBlock(h.block);
          if (!res.accepted) {
            if (res.dos) this.misbehave(h.from, res.dos, `invalid block: ${res.reason ?? 'rejected'}`);
            else this.log.debug({ reason: res.reason }, 'block not accepted');
            const again = this.chain.blocksToDownload(1)[0];
            if (again && equalBytes(again.hash, next.hash)) break;
          }
        }
      } while (this.connectAgain && !this.stopping);
      if (this.held.size > this.window) {
        const still = new Set(this.chain.blocksToDownload(this.window).map((w) => key(w.hash)));
        for (const k of this.held.keys()) if (!still.has(k)) this.held.delete(k);
      }
    } finally {
      this.connecting = false;
    }
    this.scheduleDownloads();
  }
}

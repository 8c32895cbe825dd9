// One connection to a peer over a WebSocket: its handshake state, inventory it already knows,
// blocks requested from it, its misbehaviour score, and an in-order message queue.
// Owns: fairness between peers (each peer's messages are handled one at a time and the socket is
// paused while its queue is full, so a flooding peer slows only itself). Does not own: what
// messages mean (node.ts). Fails by closing the socket; never throws to the event loop.
import type { WebSocket } from 'ws';
import type { VersionPayload } from './messages.js';
import { MAX_MESSAGE, encodeMessage, type Message, messageTypeOf } from './messages.js';
import { BoundedSet } from '../primitives/bounded.js';
import { RollingBloom } from './rolling-bloom.js';

/**
 * Unsent bytes past which a peer's further requests (getdata above all) wait until it reads:
 * Core's -maxsendbuffer (DEFAULT_MAXSENDBUFFER 1000 kB, fPauseSend). A peer that never reads holds
 * about this much plus one block it asked for.
 */
export const SEND_PAUSE_BYTES = 1_000_000;

/** Received bytes queued and not yet handled past which the socket is no longer read: Core's
 * -maxreceivebuffer (DEFAULT_MAXRECEIVEBUFFER 5000 kB, fPauseRecv). */
export const RECEIVE_PAUSE_BYTES = 5_000_000;

/** Addresses a peer may have processed per second, and the bucket's cap: Core's
 * MAX_ADDR_RATE_PER_SECOND (0.1) and MAX_ADDR_PROCESSING_TOKEN_BUCKET (1000). */
export const ADDR_RATE_PER_SECOND = 0.1;
export const ADDR_TOKEN_BUCKET_MAX = 1_000;

/**
 * Round-robin turns for the peers' messages: one message of one peer per event-loop iteration, so
 * between any two messages the loop polls for I/O (an RPC request, an honest peer's ping) instead
 * of running one message of every busy peer back to back; as Core's message handler visits the
 * peers one message at a time. At most one waiter per peer (each handles its queue in order).
 */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  /** Resolves when it is the caller's turn to handle one message. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    // An immediate queued from an immediate runs on the next loop iteration, after the I/O poll.
    setImmediate(() => {
      this.scheduled = false;
      this.waiting.shift()?.();
      this.schedule();
    });
  }
}

export interface PeerQueueLimits {
  /** Messages queued before the socket is paused. */
  maxQueue: number;
  /** Shared by a node's peers: whose message is handled next (default: each peer yields alone). */
  turns?: Turns;
  /** Bytes queued before the socket is paused (default RECEIVE_PAUSE_BYTES). */
  maxQueueBytes?: number;
}

export type PeerHandler = (peer: Peer, data: Uint8Array) => Promise<void>;

export class Peer {
  readonly connectedAt = Date.now();
  lastRecv = Date.now();
  lastSend = 0;
  bytesRecv = 0;
  bytesSent = 0;
  /** Core's mapSendBytesPerMsgType / mapRecvBytesPerMsgType: bounded by the known commands plus '*other*'. */
  readonly bytesSentPerMsg = new Map<string, number>();
  readonly bytesRecvPerMsg = new Map<string, number>();
  msgsRecv = 0;
  /** Set once the remote's version has been accepted. */
  version?: VersionPayload;
  verackReceived = false;
  /** Handshake complete: version accepted and verack received. */
  ready = false;
  closed = false;
  closeReason = '';
  score = 0;
  sendHeaders = false;
  getaddrAnswered = false;
  /** Its first `mempool` got our whole pool; later ones get only what it is not known to have. */
  mempoolAnswered = false;
  /** Best height we know the peer has (its start height, raised by what it announces). */
  bestHeight = 0;
  unconnectingHeaders = 0;
  /** Block hash hex -> ms requested. */
  readonly blocksInFlight = new Map<string, number>();
  /** Last time a requested block arrived (or the first request was made). */
  lastBlockProgress = 0;
  /** Core's m_tx_inventory_known_filter: a rolling Bloom filter of 50,000 (fixed ~250 kB). */
  readonly knownInv = new RollingBloom(50_000);
  /** Blocks this peer answered `notfound` for (it is on another branch): not asked again. */
  readonly notFound = new BoundedSet<string>(10_000);
  readonly knownAddr = new BoundedSet<string>(5_000);
  /** Dialled by the operator (connect/addnode), not picked from the address book. */
  manual = false;
  /** Core's noban permission (an inbound peer from a `whitelist` subnet): never discouraged or
   * disconnected for misbehaviour, never evicted, served blocks a pruned node hides from others. */
  noban = false;
  /** Core's m_prefer_evict: its host was discouraged when it connected (inbound eviction takes it first). */
  preferEvict = false;
  /** Seconds the peer's clock (its version timestamp) is ahead of ours. */
  timeOffset = 0;
  /** Height of the best header this peer sent or announced that we validated; -1 when none. */
  syncedHeaders = -1;
  /** The socket's two ends, once known ('' until then). */
  remoteAddress = '';
  remotePort = 0;
  localAddress = '';
  localPort = 0;
  pingNonce: bigint | null = null;
  pingSentAt = 0;
  lastPingMs: number | null = null;
  minPingMs: number | null = null;
  /** Unix ms of the last new transaction / block this peer gave us (eviction protects recent ones). */
  lastTxTime = 0;
  lastBlockTime = 0;
  /** Addresses this peer may still have processed (Core's m_addr_token_bucket, starts at 1). */
  addrTokens = 1;
  addrTokensAt = Date.now();
  /** Addresses dropped by the rate limit (Core's m_addr_rate_limited). */
  addrRateLimited = 0;
  /** Addresses taken within the rate limit (Core's m_addr_processed). */
  addrProcessed = 0;
  /** Send-stall watch: unsent bytes at the last check and since when they have not gone down. */
  sendWatchBytes = 0;
  sendStuckSince = 0;
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private draining = false;
  private paused = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly inbound: boolean,
    /** Host for bans: the socket's remote IP for inbound peers, the dialled host for outbound. */
    readonly host: string,
    /** The URL we dialled (outbound) or the one the peer announced in version (inbound). */
    public url: string,
    /** Nonce of the version we sent, to recognise a connection to ourselves. */
    readonly localNonce: bigint,
    private readonly handler: PeerHandler,
    private readonly limits: PeerQueueLimits,
  ) {}

  get label(): string {
    return `${this.id}${this.inbound ? '<' : '>'}${this.url || this.host}`;
  }

  send(msg: Message): void {
    this.sendRaw(encodeMessage(msg));
  }

  sendRaw(data: Uint8Array, cb?: (err?: Error) => void): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      cb?.();
      return;
    }
    this.bytesSent += data.length;
    addBytes(this.bytesSentPerMsg, data);
    this.lastSend = Date.now();
    this.ws.send(data, { binary: true }, cb);
  }

  /** Waits until the socket's send buffer is under `bytes` (served blocks must not pile up). */
  async drain(bytes: number): Promise<void> {
    while (!this.closed && this.ws.bufferedAmount > bytes) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  enqueue(data: Uint8Array): void {
    if (this.closed) return;
    this.lastRecv = Date.now();
    this.bytesRecv += data.length;
    addBytes(this.bytesRecvPerMsg, data);
    this.msgsRecv++;
    this.queue.push(data);
    this.queuedBytes += data.length;
    if (this.overQueue() && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    if (!this.draining) void this.drainQueue();
  }

  /**
   * Lets frames up to MAX_MESSAGE through: called once the peer's version is accepted (until then
   * the socket takes MAX_HANDSHAKE_MESSAGE). `ws` fixes maxPayload when the socket opens and has
   * no setter, so its receiver's field is set; a `ws` without that field throws here, and then no
   * peer gets past its handshake (p2p tests fail at once), rather than large frames being refused
   * quietly.
   */
  acceptFullMessages(): void {
    const receiver = (this.ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
    if (typeof receiver?._maxPayload !== 'number')
      throw new Error('ws has no receiver maxPayload to raise (ws internals changed)');
    receiver._maxPayload = MAX_MESSAGE;
  }

  /** Unsent bytes on the socket. */
  get sendBuffered(): number {
    return this.ws.bufferedAmount;
  }

  /** Refills the addr token bucket for the time passed; adds `extra` (after our getaddr). */
  refillAddrTokens(now: number, extra = 0): void {
    const earned = (Math.max(0, now - this.addrTokensAt) / 1000) * ADDR_RATE_PER_SECOND;
    this.addrTokens = Math.min(ADDR_TOKEN_BUCKET_MAX, this.addrTokens + earned + extra);
    this.addrTokensAt = now;
  }

  /** Resolves on this peer's next turn: a handler with a long message to work through (a
   * 50,000-entry inv) lets other peers' messages and I/O run between its slices. */
  yieldTurn(): Promise<void> {
    return this.limits.turns?.next() ?? new Promise<void>((r) => setImmediate(r));
  }

  /** The queue is over its limits (divided by `slack` when deciding to resume reading). */
  private overQueue(slack = 1): boolean {
    return (
      this.queue.length >= this.limits.maxQueue / slack ||
      this.queuedBytes >= (this.limits.maxQueueBytes ?? RECEIVE_PAUSE_BYTES) / slack
    );
  }

  private async drainQueue(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        // As Core's fPauseSend: a peer that does not read our replies gets no more of them
        // until it does; meanwhile its queue fills and its socket is paused.
        await this.drain(SEND_PAUSE_BYTES);
        // Other peers' messages, timers and I/O (RPC) run between two messages of this one.
        await this.yieldTurn();
        const data = this.queue.shift();
        if (!data || this.closed) break;
        this.queuedBytes -= data.length;
        await this.handler(this, data);
        if (this.paused && !this.overQueue(2)) {
          this.paused = false;
          this.ws.resume();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.queue.length = 0;
    this.queuedBytes = 0;
    try {
      this.ws.close(1000, reason.slice(0, 100));
    } catch {
      this.ws.terminate();
    }
    // A peer that ignores the close frame is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
}

function addBytes(counts: Map<string, number>, data: Uint8Array): void {
  const type = messageTypeOf(data);
  counts.set(type, (counts.get(type) ?? 0) + data.length);
}

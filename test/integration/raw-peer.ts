// A scripted raw WebSocket peer for the adversarial tests against real `tally node` processes
// (issue 11): it completes version/verack with the node's magic (or a wrong one), sends any
// message, a hand-made frame, a text frame, an oversized frame or bytes that are no WebSocket frame
// at all, decodes what the node answers, and can stop reading its socket (a peer that asks and
// never reads). Also here: the RSS of a node process, read from /proc/PID/status as `ps` would.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { getParams } from '../../src/consensus/params.js';
import {
  COMMAND_SIZE,
  MAX_MESSAGE,
  decodeMessage,
  encodeMessage,
  frame,
  type Message,
  type VersionPayload,
} from '../../src/p2p/messages.js';
import { versionMsg } from '../p2p/helpers.js';

/** The regtest network's magic, which `tally node --network regtest` expects in `version`. */
export const REGTEST_MAGIC = getParams('regtest').magic;

export interface RawPeerOptions {
  /** Magic sent in `version` (default regtest's). */
  magic?: Uint8Array;
  /** Source IP of the socket (an address of this machine), e.g. a non-loopback one. */
  localAddress?: string;
  /** Largest frame accepted from the node (default: the protocol's largest message). */
  maxPayload?: number;
  /** Overrides in the `version` we send. */
  version?: Partial<VersionPayload>;
}

type MessageOf<C, M = Message> = M extends Message ? (C extends M['command'] ? M : never) : never;

/** One connection to a node that does exactly what the test says, byte for byte. */
export class RawPeer {
  /** Every message the node sent that decoded, in order. */
  readonly received: Message[] = [];
  /** Frames from the node that did not decode (a node bug: tests may assert it stays 0). */
  undecodable = 0;
  bytesReceived = 0;
  /** Close code and reason once the socket closed (1006 when it was cut without a close frame). */
  closeCode: number | null = null;
  closeReason = '';
  /** Answer the node's pings (a live peer); off, the node's idle and ping timeouts apply. */
  answerPings = true;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly ws: WebSocket,
    readonly opts: RawPeerOptions,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.bytesReceived += data.length;
      if (!isBinary) {
        this.undecodable++;
      } else {
        try {
          const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.length));
          this.received.push(m);
          if (m.command === 'ping' && this.answerPings) this.send({ command: 'pong', nonce: m.nonce });
        } catch {
          this.undecodable++;
        }
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Opens the WebSocket (no protocol message yet). Rejects when the node refuses the upgrade. */
  static async connect(url: string, opts: RawPeerOptions = {}): Promise<RawPeer> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: opts.maxPayload ?? MAX_MESSAGE,
      localAddress: opts.localAddress,
      handshakeTimeout: 10_000,
    });
    const peer = new RawPeer(ws, opts);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed (${code}) before open`)));
    });
    return peer;
  }

  /**
   * Listens on 127.0.0.1 (an ephemeral port) for the node to dial us (`addnode URL onetry`): each
   * accepted connection is handed out by `accept()` once the node's version arrived, answered with
   * our version and verack (the handshake as the dialled side).
   */
  static async listen(opts: RawPeerOptions = {}): Promise<RawListener> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: false,
      maxPayload: opts.maxPayload ?? MAX_MESSAGE,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const waiting: RawPeer[] = [];
    server.on('connection', (ws) => waiting.push(new RawPeer(ws, opts)));
    const port = (server.address() as { port: number }).port;
    return {
      url: `ws://127.0.0.1:${port}`,
      async accept(timeoutMs = 15_000): Promise<RawPeer> {
        const until = Date.now() + timeoutMs;
        while (waiting.length === 0) {
          if (Date.now() >= until) throw new Error(`no connection to ${port} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const p = waiting.shift() as RawPeer;
        await p.next('version', timeoutMs);
        p.sendVersion();
        p.send({ command: 'verack' });
        await p.next('verack', timeoutMs);
        return p;
      },
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  /** Connects and completes version/verack: the node's version and verack, then ours. */
  static async handshake(url: string, opts: RawPeerOptions = {}, timeoutMs = 15_000): Promise<RawPeer> {
    const p = await RawPeer.connect(url, opts);
    p.sendVersion();
    await p.next('version', timeoutMs);
    await p.next('verack', timeoutMs);
    p.send({ command: 'verack' });
    return p;
  }

  /** The `version` this peer sends (opts.magic and opts.version applied). */
  versionMessage(): Message {
    return versionMsg(this.opts.magic ?? REGTEST_MAGIC, {
      nonce: BigInt(Math.floor(Math.random() * 2 ** 48)),
      userAgent: '/raw-peer/',
      ...this.opts.version,
    });
  }

  sendVersion(): void {
    this.send(this.versionMessage());
  }

  get closed(): boolean {
    return this.closeCode !== null;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one protocol message. */
  send(m: Message): void {
    this.sendFrame(encodeMessage(m));
  }

  /** Sends a command name (any printable name, known or not) with a payload of our choosing. */
  sendCommand(name: string, payload: Uint8Array = new Uint8Array(0)): void {
    this.sendFrame(frame(name, payload));
  }

  /** Sends these bytes as one binary WebSocket frame (truncated, junk, a bad command field...). */
  sendFrame(data: Uint8Array): void {
    if (this.open) this.ws.send(data, { binary: true });
  }

  /** A binary frame of `bytes` bytes (over the node's limit when bytes > 12 + 4,000,000). */
  sendOversized(bytes = MAX_MESSAGE + 1): void {
    const data = new Uint8Array(bytes);
    data.set(encodeMessage({ command: 'ping', nonce: 1n }).subarray(0, COMMAND_SIZE));
    this.sendFrame(data);
  }

  sendText(text: string): void {
    if (this.open) this.ws.send(text, { binary: false });
  }

  /** Writes bytes straight to the TCP socket: no WebSocket framing (a protocol error for the node). */
  sendSocketBytes(data: Uint8Array): void {
    const s = this.socket;
    if (s && !s.destroyed) s.write(data);
  }

  /** Resolves once everything sent so far left this process (the socket's buffer is empty). */
  async flush(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.open && this.ws.bufferedAmount > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops reading the socket: the node's replies pile up in its send buffer (never-read mode). */
  stopReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  /** Our end's port: getpeerinfo's `addr` of this connection ends in it. */
  get localPort(): number {
    return this.socket?.localPort ?? 0;
  }

  private get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }

  /** The first message with this command at or after index `from` of `received`. */
  async next<C extends Message['command']>(command: C, timeoutMs = 10_000, from = 0): Promise<MessageOf<C>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) {
        if (this.received[i].command === command) return this.received[i] as MessageOf<C>;
      }
      if (this.closed) throw new Error(`closed (${this.closeCode} ${this.closeReason}) before ${command}`);
      if (Date.now() >= until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${command}`);
      await this.sleepUntilEvent(until - Date.now());
    }
  }

  /** Sends a ping and waits for its pong: the node has handled everything this peer sent before.
   * Returns the round trip in ms (fractional). */
  async roundTrip(timeoutMs = 30_000): Promise<number> {
    const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
    const from = this.received.length;
    const t0 = performance.now();
    this.send({ command: 'ping', nonce });
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) {
        const m = this.received[i];
        if (m.command === 'pong' && m.nonce === nonce) return performance.now() - t0;
      }
      if (this.closed) throw new Error(`closed (${this.closeCode} ${this.closeReason}) before pong`);
      if (Date.now() >= until) throw new Error(`no pong within ${timeoutMs} ms`);
      await this.sleepUntilEvent(until - Date.now());
    }
  }

  /** Waits for the node to close the connection; returns the close code. */
  async waitClosed(timeoutMs = 10_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() >= until) throw new Error(`still connected after ${timeoutMs} ms`);
      await this.sleepUntilEvent(until - Date.now());
    }
    return this.closeCode as number;
  }

  /** Cuts the connection at once (no close handshake). */
  terminate(): void {
    this.ws.terminate();
  }

  private sleepUntilEvent(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(1, Math.min(ms, 1_000)));
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface RawListener {
  /** The URL to give the node (addnode). */
  url: string;
  /** The next connection the node made, handshake done. */
  accept(timeoutMs?: number): Promise<RawPeer>;
  close(): Promise<void>;
}

/** Opens `n` connections (in batches, so a loaded machine is not asked for all at once). */
export async function connectMany(
  url: string,
  n: number,
  opts: RawPeerOptions = {},
  handshake = true,
): Promise<RawPeer[]> {
  const out: RawPeer[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, () =>
      handshake ? RawPeer.handshake(url, opts) : RawPeer.connect(url, opts),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Resident memory of a process in MB (VmRSS of /proc/PID/status); throws when it is gone. */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Whether a process is still alive (signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Samples rssMB(pid) every intervalMs until stop() is called; reports the peak. */
export function watchRss(pid: number, intervalMs = 100): { stop(): number; peak(): number } {
  let peak = rssMB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMB(pid));
    } catch {
      // The process exited: the test's own liveness check reports it.
    }
  }, intervalMs);
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * A non-loopback IPv4 address of this machine, if it has one: a connection from it to a node on
 * 127.0.0.1 is a "remote" peer to the node (discouraged for misbehaviour, not only disconnected).
 */
export function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

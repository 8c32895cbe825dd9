// Shared pieces of the P2P tests: nodes on 127.0.0.1 with ephemeral ports and fast timeouts, and a
// scripted raw WebSocket peer that speaks (or abuses) the protocol byte by byte.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { P2PNode, type P2PNodeOptions, type P2PTimeouts } from '../../src/p2p/node.js';
import {
  PROTOCOL_VERSION,
  ZERO_ADDR,
  decodeMessage,
  encodeMessage,
  type Message,
  MAX_MESSAGE,
} from '../../src/p2p/messages.js';
import { FakeChain, FakeMempool } from './fake-chain.js';

export const MAGIC = Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda);
export const OTHER_MAGIC = Uint8Array.of(0x0b, 0x11, 0x09, 0x07);
export const PARAMS = { magic: MAGIC, defaultPort: 18444, seeds: [] as string[] };

export const FAST: Partial<P2PTimeouts> = {
  handshakeMs: 1_000,
  pingIntervalMs: 60_000,
  idleMs: 60_000,
  blockStallMs: 3_000,
  headersMs: 10_000,
  retryMs: 300,
  tickMs: 100,
};

export interface TestNode {
  node: P2PNode;
  chain: FakeChain;
  mempool: FakeMempool;
  url: string;
}

export async function startNode(
  opts: Partial<P2PNodeOptions> = {},
  chain = new FakeChain(),
): Promise<TestNode> {
  const mempool = new FakeMempool();
  const node = new P2PNode({
    params: PARAMS,
    chain,
    mempool,
    port: 0,
    useSeeds: false,
    ...opts,
    timeouts: { ...FAST, ...opts.timeouts },
  });
  await node.start();
  return { node, chain, mempool, url: node.url };
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function versionMsg(
  magic: Uint8Array = MAGIC,
  over: Partial<Extract<Message, { command: 'version' }>> = {},
): Message {
  return {
    command: 'version',
    version: PROTOCOL_VERSION,
    services: 1n,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    addrRecv: ZERO_ADDR,
    addrFrom: ZERO_ADDR,
    nonce: 42n,
    userAgent: '/raw-test/',
    startHeight: 0,
    relay: true,
    magic,
    wsurl: '',
    ...over,
  };
}

type MessageOf<C, M = Message> = M extends Message ? (C extends M['command'] ? M : never) : never;

/** A scripted peer on a raw WebSocket. It answers pings only when asked to. */
export class RawPeer {
  readonly received: Message[] = [];
  closeCode: number | null = null;
  private readonly waiters: (() => void)[] = [];
  answerPings = true;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      try {
        const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.length));
        this.received.push(m);
        if (m.command === 'ping' && this.answerPings) this.send({ command: 'pong', nonce: m.nonce });
      } catch {
        // The node under test never sends malformed messages; a test would notice the gap.
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {});
  }

  static async connect(url: string): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_MESSAGE });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawPeer(ws);
  }

  /** Connects and completes version/verack. */
  static async handshake(url: string, magic = MAGIC, startHeight = 0): Promise<RawPeer> {
    const p = await RawPeer.connect(url);
    p.send(versionMsg(magic, { startHeight }));
    await p.next('version');
    await p.next('verack');
    p.send({ command: 'verack' });
    return p;
  }

  get closed(): boolean {
    return this.closeCode !== null;
  }

  send(m: Message): void {
    this.ws.send(encodeMessage(m), { binary: true });
  }

  sendRaw(data: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.ws.send(data, { binary: true }, () => resolve()));
  }

  /** The next message with this command after `from` (an index into received). */
  async next<C extends Message['command']>(command: C, timeoutMs = 5_000, from = 0): Promise<MessageOf<C>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.slice(from).find((x) => x.command === command);
      if (m) return m as MessageOf<C>;
      if (this.closed) throw new Error(`closed (${this.closeCode}) before ${command}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${command}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<number> {
    await waitFor(() => this.closed, timeoutMs, 'peer to be disconnected');
    return this.closeCode as number;
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface UpgradeAnswer {
  /** HTTP status of the node's answer (101: a WebSocket was made; 0: closed without one). */
  status: number;
  /** Its body (the refusal's reason line), '' for 101. */
  body: string;
}

/**
 * Asks a node for a WebSocket over a raw TCP socket (from `localAddress` when given) and reads its
 * HTTP answer; `after` is written in the same packet, right behind the request (bytes a peer sends
 * before it could know whether it was accepted). The socket is closed once the answer is read.
 */
export function rawUpgrade(
  url: string,
  opts: { localAddress?: string; after?: Uint8Array } = {},
  timeoutMs = 10_000,
): Promise<UpgradeAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress: opts.localAddress });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no HTTP answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = got.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const head = text.indexOf('\r\n\r\n');
      resolve({ status, body: status === 101 || head < 0 ? '' : text.slice(head + 4) });
    };
    socket.on('error', () => {});
    socket.on('connect', () => {
      const request =
        `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(request, 'latin1'), opts.after ?? Buffer.alloc(0)]));
    });
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const text = got.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/\r\nContent-Length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (text.startsWith('HTTP/1.1 101') || got.length >= head + 4 + length) done();
    });
    socket.on('close', done);
  });
}

/** A masked client frame header announcing MAX_MESSAGE + 1 bytes, and 4 MB of its payload. */
export function oversizedFrame(): Uint8Array {
  const out = new Uint8Array(14 + 4_000_000);
  out[0] = 0x82; // FIN, binary
  out[1] = 0xff; // masked, 64-bit length
  new DataView(out.buffer).setBigUint64(2, BigInt(MAX_MESSAGE + 1));
  return out;
}

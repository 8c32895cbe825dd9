// Shared pieces of the P2P tests: nodes on 127.0.0.1 with ephemeral ports and fast timeouts, and a
// scripted raw WebSocket peer that speaks (or abuses) the protocol byte by byte.
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

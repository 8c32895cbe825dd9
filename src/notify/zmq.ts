// ZMQ publishers, as Bitcoin Core's zmq/ (doc/zmq.md): topics hashblock, hashtx, rawblock, rawtx
// and sequence on the endpoints the operator names (zmqpubhashblock=tcp://127.0.0.1:28332…).
// Owns: the sockets (one per endpoint, shared by its topics as Core shares them), the message
// layout [topic, body, 4-byte little-endian sequence number] with one counter per topic starting
// at 0, and the order of sends. Does not own when events happen: node/ calls these methods from
// chain and mempool events, in the order Core's validation interface gives them. Fails at start
// with one line naming an endpoint that cannot be bound; at run time a send that fails or finds
// the queue full is dropped with a warning, as ZMQ drops at its high-water mark.
import { Publisher } from 'zeromq';
import type { Logger } from '../primitives/logger.js';

export const ZMQ_TOPICS = ['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence'] as const;
export type ZmqTopic = (typeof ZMQ_TOPICS)[number];

/** Messages queued per socket; Core's default -zmqpub*hwm (ZMQ's SNDHWM) is 1000 too. */
export const ZMQ_HIGH_WATER_MARK = 1000;

export interface ZmqOptions {
  /** Endpoints per topic (tcp://ADDRESS:PORT). */
  endpoints: Partial<Record<ZmqTopic, string[]>>;
  logger?: Logger;
}

/** What getzmqnotifications lists. */
export interface ZmqNotification {
  type: string;
  address: string;
  hwm: number;
}

interface Endpoint {
  address: string;
  socket: Publisher;
  queue: Uint8Array[][];
  sending: boolean;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

export class ZmqPublisher {
  private readonly sequence = new Map<ZmqTopic, number>();
  private mempoolSequence = 0n;
  private closed = false;

  private constructor(
    private readonly byTopic: Map<ZmqTopic, Endpoint[]>,
    private readonly endpoints: Endpoint[],
    private readonly log: Logger | undefined,
  ) {}

  /** Binds every endpoint; on a failure closes what was bound and throws one line naming it. */
  static async start(opts: ZmqOptions): Promise<ZmqPublisher> {
    const endpoints = new Map<string, Endpoint>();
    const byTopic = new Map<ZmqTopic, Endpoint[]>();
    try {
      for (const topic of ZMQ_TOPICS) {
        for (const address of opts.endpoints[topic] ?? []) {
          let ep = endpoints.get(address);
          if (!ep) {
            const socket = new Publisher({ sendHighWaterMark: ZMQ_HIGH_WATER_MARK, linger: 0 });
            ep = { address, socket, queue: [], sending: false };
            endpoints.set(address, ep);
            try {
              await socket.bind(address);
            } catch (e) {
              throw new Error(`zmqpub${topic}: cannot bind ${address}: ${(e as Error).message}`);
            }
          }
          const list = byTopic.get(topic) ?? [];
          list.push(ep);
          byTopic.set(topic, list);
        }
      }
    } catch (e) {
      for (const ep of endpoints.values()) ep.socket.close();
      throw e;
    }
    opts.logger?.info({ endpoints: [...endpoints.keys()] }, 'ZMQ publishing');
    return new ZmqPublisher(byTopic, [...endpoints.values()], opts.logger);
  }

  /** getzmqnotifications: one entry per topic and endpoint, in Core's form ("pubhashblock"). */
  notifications(): ZmqNotification[] {
    const out: ZmqNotification[] = [];
    for (const [topic, eps] of this.byTopic)
      for (const ep of eps) out.push({ type: `pub${topic}`, address: ep.address, hwm: ZMQ_HIGH_WATER_MARK });
    return out;
  }

  /** The new best block (hashblock, rawblock); `hash` in display order. */
  blockTip(hash: Uint8Array, raw: () => Uint8Array): void {
    this.publish('hashblock', () => hash);
    this.publish('rawblock', raw);
  }

  /** A transaction entering the pool or in a connected or disconnected block (hashtx, rawtx). */
  transaction(txid: Uint8Array, raw: () => Uint8Array): void {
    this.publish('hashtx', () => txid);
    this.publish('rawtx', raw);
  }

  /** sequence: a block connected (C) or disconnected (D). */
  blockConnected(hash: Uint8Array): void {
    this.publish('sequence', () => Uint8Array.from([...hash, 0x43]));
  }
  blockDisconnected(hash: Uint8Array): void {
    this.publish('sequence', () => Uint8Array.from([...hash, 0x44]));
  }

  /** sequence: a transaction added to (A) or removed from (R) the pool, with the pool's sequence. */
  mempoolAdded(txid: Uint8Array): void {
    const seq = ++this.mempoolSequence;
    this.publish('sequence', () => Uint8Array.from([...txid, 0x41, ...u64le(seq)]));
  }
  mempoolRemoved(txid: Uint8Array): void {
    const seq = ++this.mempoolSequence;
    this.publish('sequence', () => Uint8Array.from([...txid, 0x52, ...u64le(seq)]));
  }

  private publish(topic: ZmqTopic, body: () => Uint8Array): void {
    const eps = this.byTopic.get(topic);
    if (!eps || this.closed) return;
    const seq = this.sequence.get(topic) ?? 0;
    this.sequence.set(topic, seq + 1);
    const msg = [new TextEncoder().encode(topic), body(), u32le(seq)];
    for (const ep of eps) {
      if (ep.queue.length >= ZMQ_HIGH_WATER_MARK) {
        this.log?.warn({ topic, address: ep.address }, 'ZMQ queue full; message dropped');
        continue;
      }
      ep.queue.push(msg);
      if (!ep.sending) void this.drain(ep);
    }
  }

  // zeromq allows one send in flight per socket: messages leave one after another, in order.
  private async drain(ep: Endpoint): Promise<void> {
    ep.sending = true;
    while (ep.queue.length > 0 && !this.closed) {
      const msg = ep.queue.shift()!;
      try {
        await ep.socket.send(msg);
      } catch (err) {
        if (this.closed) break;
        this.log?.warn({ err, address: ep.address }, 'ZMQ send failed; message dropped');
      }
    }
    ep.sending = false;
  }

  close(): void {
    this.closed = true;
    for (const ep of this.endpoints) ep.socket.close();
  }
}

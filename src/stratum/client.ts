// The miner's side of Stratum v1 (`tally mine --pool`): one TCP connection to a pool, subscribe
// and authorize, the jobs and difficulty it is sent, and share submission. Owns the connection
// only; hashing is the Miner's (mining/miner.ts) and the loop is the CLI's. A pool that sends
// garbage or an overlong line, or closes, ends the client with `close` carrying the reason;
// requests still waiting then reject.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { hexToBytes } from '../primitives/bytes.js';
import {
  EXTRANONCE2_SIZE,
  LineReader,
  StratumError,
  parseMessage,
  parseNotify,
  type Request,
} from './protocol.js';

export type StratumJob = ReturnType<typeof parseNotify>;

/** Requests in flight at most (a pool that never answers cannot make us hold more). */
const MAX_PENDING = 1000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface StratumClientEvents {
  job: [StratumJob];
  difficulty: [number];
  close: [string];
}

export class StratumClient extends EventEmitter<StratumClientEvents> {
  private readonly socket: Socket;
  private readonly reader = new LineReader();
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  extranonce1: Uint8Array = new Uint8Array(0);
  extranonce2Size = EXTRANONCE2_SIZE;
  difficulty = 1;
  job: StratumJob | null = null;
  private closed = false;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      try {
        for (const line of this.reader.push(chunk)) this.onLine(line);
      } catch (err) {
        this.close(`pool sent something unreadable: ${(err as Error).message}`);
      }
    });
    socket.on('error', (err) => this.close(err.message));
    socket.on('close', () => this.close('connection closed by the pool'));
  }

  /** Connects to stratum+tcp://HOST:PORT. */
  static async connect(url: string): Promise<StratumClient> {
    const m = /^stratum\+tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
    if (!m) throw new RangeError(`pool URL must be stratum+tcp://HOST:PORT, got ${url}`);
    const host = m[1].replace(/^\[|\]$/g, '');
    const socket = connect(Number(m[2]), host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new StratumClient(socket);
  }

  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('not connected'));
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new Error('too many requests in flight'));
    const id = this.nextId++;
    this.socket.write(JSON.stringify({ id, method, params }) + '\n');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** subscribe then authorize as `user`; resolves once both are answered. */
  async login(user: string, password = 'x'): Promise<void> {
    const sub = await this.request('mining.subscribe', ['tally-mine/1']);
    if (!Array.isArray(sub) || typeof sub[1] !== 'string') throw new Error('malformed subscribe answer');
    this.extranonce1 = hexToBytes(sub[1]);
    if (typeof sub[2] === 'number') this.extranonce2Size = sub[2];
    if (this.extranonce2Size < 1 || this.extranonce2Size > 8) throw new Error('unsupported extranonce2 size');
    const ok = await this.request('mining.authorize', [user, password]);
    if (ok !== true) throw new Error(`the pool refused user ${user}`);
  }

  /** Submits a share: resolves true when accepted; rejects with the pool's StratumError otherwise. */
  async submit(user: string, jobId: string, en2: Uint8Array, time: number, nonce: number): Promise<boolean> {
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    return (
      (await this.request('mining.submit', [
        user,
        jobId,
        Buffer.from(en2).toString('hex'),
        hex(time),
        hex(nonce),
      ])) === true
    );
  }

  private onLine(line: string): void {
    const msg = parseMessage(line);
    if (msg.method === '') {
      const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id as number);
      if (msg.error) {
        const e = Array.isArray(msg.error)
          ? msg.error
          : [20, typeof msg.error === 'string' ? msg.error : JSON.stringify(msg.error)];
        p.reject(new StratumError(Number(e[0]) || 20, String(e[1])));
      } else p.resolve(msg.result);
      return;
    }
    this.onNotification(msg);
  }

  private onNotification(msg: Request): void {
    if (msg.method === 'mining.notify') {
      this.job = parseNotify(msg.params);
      this.emit('job', this.job);
    } else if (msg.method === 'mining.set_difficulty') {
      const d = msg.params[0];
      if (typeof d !== 'number' || !(d > 0) || !Number.isFinite(d))
        throw new StratumError(20, 'bad difficulty');
      this.difficulty = d;
      this.emit('difficulty', d);
    }
  }

  close(why = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
    this.emit('close', why);
  }
}

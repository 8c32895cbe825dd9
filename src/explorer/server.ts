// The explorer (issue 17): a read-only web page served by the node on its own port (--explorer
// PORT, 127.0.0.1 unless explorerbind says otherwise). Owns: the HTTP routes, the JSON the page
// reads and the live-update stream. Does not own any figure: every one comes from the node's own
// RPC methods through ExplorerSource.call (so the page and `tally rpc` agree), a fixed list of
// read-only ones, plus the address index and the supervision alerts. Nothing here can change
// state: GET and HEAD only, no method outside READ_METHODS. The page is plain HTML, CSS and
// JavaScript from page.ts (no build step, nothing loaded from outside the node; the CSP says so).
// Fails per request: a bad id or an unknown object is a 400/404 with one line; an internal error
// is a 500 and logged; the server never stops the node. Bounded: at most MAX_EVENT_CLIENTS live
// streams, at most MAX_CHART_BLOCKS blocks per chart, MAX_TX_INPUTS previous outputs per page.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../primitives/logger.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';

/** Live-update streams served at once (each holds a socket; more get 503). */
export const MAX_EVENT_CLIENTS = 100;
/** Blocks one chart request reads. */
export const MAX_CHART_BLOCKS = 1000;
/** Inputs of one transaction whose previous outputs are looked up. */
export const MAX_TX_INPUTS = 500;
/** Blocks on the front page. */
const RECENT_BLOCKS = 10;
/** Pool transactions listed. */
const MEMPOOL_LIST = 500;

/** The only RPC methods the explorer calls: none of them changes anything. */
export const READ_METHODS = new Set([
  'getblockchaininfo',
  'getmininginfo',
  'getmempoolinfo',
  'getrawmempool',
  'getblockhash',
  'getblock',
  'getblockheader',
  'getrawtransaction',
  'getnetworkhashps',
  'getpeerinfo',
  'getnettotals',
  'validateaddress',
]);

export interface ExplorerAlert {
  event: string;
  message: string;
  time: number;
}

export interface AddressPage {
  address: string;
  /** Base units, as decimal strings of coins in the JSON. */
  balance: bigint;
  received: bigint;
  spent: bigint;
  txCount: number;
  /** Newest first. */
  history: { txid: string; blockHash: string; height: number; received: bigint; spent: bigint }[];
  /** Whether the index has reached the tip (the figures may lag while it builds). */
  synced: boolean;
}

/** What the explorer reads (node/ implements it over RpcServer.call, the indexes and supervision). */
export interface ExplorerSource {
  /** An RPC method's result as a client reads it (its JSON text, parsed). */
  call(method: string, params: unknown[]): Promise<unknown>;
  /** The address's page, null when `address` is not an address of this network. */
  address(address: string): Promise<AddressPage | null>;
  alerts(): ExplorerAlert[];
  /** Called on every new tip; returns the unsubscribe. */
  onTip(listener: (height: number, hash: string) => void): () => void;
}

export interface ExplorerOptions {
  port: number;
  host?: string;
  logger?: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEIGHT = /^\d{1,10}$/;
const COIN = 100_000_000n;

/** Base units as a decimal string of coins (8 places), as RPC prints amounts. */
export function coins(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / COIN}.${(a % COIN).toString().padStart(8, '0')}`;
}

interface BlockJson {
  hash: string;
  height: number;
  time: number;
  nTx: number;
  size: number;
  difficulty: number;
  tx: unknown[];
}

interface TxJson {
  txid: string;
  vin: { txid?: string; vout?: number; coinbase?: string }[];
  vout: { value: number; n: number; scriptPubKey: { address?: string } }[];
}

export class ExplorerServer {
  private server: http.Server | null = null;
  private readonly clients = new Set<http.ServerResponse>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly src: ExplorerSource,
    private readonly opts: ExplorerOptions,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.headersTimeout = 30_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.unsubscribe = this.src.onTip((height, hash) => this.broadcast('tip', { height, hash }));
    this.opts.logger?.info({ url: this.url }, 'explorer listening');
  }

  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}/`;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const c of this.clients) c.end();
    this.clients.clear();
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private call<T>(method: string, ...params: unknown[]): Promise<T> {
    if (!READ_METHODS.has(method)) throw new Error(`explorer may not call ${method}`);
    return this.src.call(method, params) as Promise<T>;
  }

  private broadcast(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) c.write(text);
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        'Referrer-Policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(405, 'the explorer is read-only');
      const url = new URL(req.url ?? '/', 'http://explorer');
      const path = url.pathname;
      if (path === '/' || path === '/index.html') return send(200, 'text/html; charset=utf-8', PAGE_HTML);
      if (path === '/app.js') return send(200, 'text/javascript; charset=utf-8', PAGE_JS);
      if (path === '/app.css') return send(200, 'text/css; charset=utf-8', PAGE_CSS);
      if (path === '/favicon.ico') return send(204, 'image/x-icon', '');
      if (path === '/api/events') return this.events(req, res);
      if (!path.startsWith('/api/')) throw new HttpError(404, 'not found');
      const [what, arg = ''] = path.slice(5).split('/').map(decodeURIComponent);
      const body = await this.api(what, arg, url.searchParams);
      send(
        200,
        'application/json',
        JSON.stringify(body, (_, v: unknown) => (typeof v === 'bigint' ? coins(v) : v)),
      );
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, 'text/plain; charset=utf-8', e.message + '\n');
      const code = (e as { code?: number }).code;
      // The node's RPC errors: -5 not found, -8 bad parameter, -28 warming up.
      if (code === -5) return send(404, 'text/plain; charset=utf-8', `${(e as Error).message}\n`);
      if (code === -8 || code === -1)
        return send(400, 'text/plain; charset=utf-8', `${(e as Error).message}\n`);
      if (code === -28) return send(503, 'text/plain; charset=utf-8', `${(e as Error).message}\n`);
      this.opts.logger?.error({ err: e, url: req.url }, 'explorer request failed');
      send(500, 'text/plain; charset=utf-8', 'internal error\n');
    }
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= MAX_EVENT_CLIENTS) throw new HttpError(503, 'too many live streams');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private async api(what: string, arg: string, query: URLSearchParams): Promise<unknown> {
    switch (what) {
      case 'summary':
        return this.summary();
      case 'block':
        return this.block(arg);
      case 'tx':
        return this.tx(arg);
      case 'address': {
        const page = await this.src.address(arg);
        if (page === null) throw new HttpError(404, `not an address of this network: ${arg}`);
        return page;
      }
      case 'mempool': {
        const info = await this.call('getmempoolinfo');
        const pool = await this.call<Record<string, { time: number; vsize: number; fees: { base: number } }>>(
          'getrawmempool',
          true,
        );
        const txs = Object.entries(pool)
          .map(([txid, e]) => ({ txid, time: e.time, size: e.vsize, fee: e.fees.base }))
          .sort((a, b) => b.time - a.time)
          .slice(0, MEMPOOL_LIST);
        return { info, txs };
      }
      case 'peers':
        return { peers: await this.call('getpeerinfo'), totals: await this.call('getnettotals') };
      case 'chart':
        return this.chart(Number(query.get('blocks') ?? '200'));
      case 'search':
        return this.search((query.get('q') ?? '').trim());
    }
    throw new HttpError(404, 'not found');
  }

  private async summary(): Promise<unknown> {
    const chain = await this.call<{ blocks: number }>('getblockchaininfo');
    const recent: unknown[] = [];
    for (let h = chain.blocks; h >= 0 && recent.length < RECENT_BLOCKS; h--) {
      const b = await this.call<BlockJson>('getblock', await this.call('getblockhash', h), 1);
      recent.push({ height: b.height, hash: b.hash, time: b.time, txs: b.nTx, size: b.size });
    }
    return {
      chain,
      mining: await this.call('getmininginfo'),
      mempool: await this.call('getmempoolinfo'),
      connections: ((await this.call<unknown[]>('getpeerinfo')) ?? []).length,
      alerts: this.src.alerts(),
      recent,
    };
  }

  private async blockHash(id: string): Promise<string> {
    if (HEIGHT.test(id)) return this.call<string>('getblockhash', Number(id));
    if (HEX64.test(id)) return id.toLowerCase();
    throw new HttpError(400, `not a block height or hash: ${id}`);
  }

  private async block(id: string): Promise<unknown> {
    const block = await this.call<BlockJson>('getblock', await this.blockHash(id), 2);
    return block;
  }

  private async tx(txid: string): Promise<unknown> {
    if (!HEX64.test(txid)) throw new HttpError(400, `not a transaction id: ${txid}`);
    const tx = await this.call<TxJson & Record<string, unknown>>('getrawtransaction', txid.toLowerCase(), 1);
    const prevouts: ({ value: number; address?: string } | null)[] = [];
    for (const input of tx.vin.slice(0, MAX_TX_INPUTS)) {
      if (input.txid === undefined || input.vout === undefined) {
        prevouts.push(null);
        continue;
      }
      try {
        const prev = await this.call<TxJson>('getrawtransaction', input.txid, 1);
        const out = prev.vout[input.vout];
        prevouts.push(out ? { value: out.value, address: out.scriptPubKey.address } : null);
      } catch {
        prevouts.push(null);
      }
    }
    return { ...tx, prevouts };
  }

  private async chart(blocks: number): Promise<unknown> {
    const n = Number.isSafeInteger(blocks) ? Math.min(Math.max(blocks, 2), MAX_CHART_BLOCKS) : 200;
    const { blocks: tip } = await this.call<{ blocks: number }>('getblockchaininfo');
    const points: { height: number; time: number; difficulty: number; hashrate: number }[] = [];
    for (let h = Math.max(0, tip - n + 1); h <= tip; h++) {
      const header = await this.call<{ time: number; difficulty: number }>(
        'getblockheader',
        await this.call('getblockhash', h),
        true,
      );
      const hashrate = h === 0 ? 0 : await this.call<number>('getnetworkhashps', 12, h);
      points.push({ height: h, time: header.time, difficulty: header.difficulty, hashrate });
    }
    return { points };
  }

  private async search(q: string): Promise<{ kind: string; id: string }> {
    if (HEIGHT.test(q)) {
      await this.call('getblockhash', Number(q));
      return { kind: 'block', id: q };
    }
    if (HEX64.test(q)) {
      const id = q.toLowerCase();
      try {
        await this.call('getblockheader', id, true);
        return { kind: 'block', id };
      } catch {
        await this.call('getrawtransaction', id, 0);
        return { kind: 'tx', id };
      }
    }
    const v = await this.call<{ isvalid: boolean }>('validateaddress', q);
    if (v.isvalid) return { kind: 'address', id: q };
    throw new HttpError(404, `no block, transaction or address matches "${q}"`);
  }
}

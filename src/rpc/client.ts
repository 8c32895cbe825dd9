// The JSON-RPC client the CLI uses. Owns: finding credentials (rpcpassword or the node's .cookie),
// one HTTP POST per call, turning replies into a result or an RpcError. Fails with
// RpcConnectionError (one-line message meant for the user) when the node cannot be reached or
// refuses the credentials.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { RpcError } from './errors.js';

export interface RpcClientOptions {
  host?: string;
  port: number;
  user?: string;
  password?: string;
  /** The node's .cookie file, read at each call (the node writes a new one each start). */
  cookieFile?: string;
  timeoutMs?: number;
  /** Sends wallet calls to /wallet/<name> (needed when the node has several wallets loaded). */
  wallet?: string;
  /** Abandons calls in flight when aborted (a miner's long poll when it stops). */
  signal?: AbortSignal;
}

export class RpcConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcConnectionError';
  }
}

export class RpcClient {
  private nextId = 1;
  private readonly host: string;

  constructor(private readonly opts: RpcClientOptions) {
    this.host = opts.host ?? '127.0.0.1';
  }

  private credentials(): string | null {
    if (this.opts.password !== undefined && this.opts.password !== '')
      return `${this.opts.user ?? ''}:${this.opts.password}`;
    if (this.opts.cookieFile === undefined) return null;
    try {
      return readFileSync(this.opts.cookieFile, 'utf8').trim();
    } catch {
      return null;
    }
  }

  async call<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    return (await this.callWithText<T>(method, params)).result;
  }

  /** As call, also returning the reply's text (the CLI prints amounts exactly as the node wrote them). */
  async callWithText<T = unknown>(
    method: string,
    params: unknown[] | Record<string, unknown> = [],
  ): Promise<{ result: T; text: string }> {
    const id = this.nextId++;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const creds = this.credentials();
    const { status, text } = await this.post(body, creds);
    if (status === 401) {
      if (creds === null)
        throw new RpcConnectionError(
          `could not locate RPC credentials: no cookie file at ${this.opts.cookieFile ?? '(none)'} and no rpcpassword set`,
        );
      throw new RpcConnectionError('incorrect rpcuser or rpcpassword (authorization failed)');
    }
    if (status === 403)
      throw new RpcConnectionError(`the node at ${this.where()} refused this client (rpcallowip)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RpcConnectionError(
        `unexpected HTTP ${status} reply from ${this.where()}: ${text.slice(0, 200).replace(/\s+/g, ' ').trim()}`,
      );
    }
    // A JSON-RPC reply is an object; anything else ("null", a bare number) is not from a node.
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new RpcConnectionError(
        `unexpected HTTP ${status} reply from ${this.where()}: ${text.slice(0, 200).replace(/\s+/g, ' ').trim()}`,
      );
    const r = parsed as { result?: unknown; error?: unknown };
    if (r.error !== undefined && r.error !== null) {
      const err = (typeof r.error === 'object' ? r.error : {}) as { code?: unknown; message?: unknown };
      const code = typeof err.code === 'number' ? err.code : -1;
      throw new RpcError(code, typeof err.message === 'string' ? err.message : 'unknown error');
    }
    return { result: r.result as T, text };
  }

  private where(): string {
    return `${this.host}:${this.opts.port}`;
  }

  private post(body: string, creds: string | null): Promise<{ status: number; text: string }> {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    };
    if (creds !== null) headers.Authorization = 'Basic ' + Buffer.from(creds).toString('base64');
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.opts.port,
          method: 'POST',
          path: this.opts.wallet !== undefined ? `/wallet/${encodeURIComponent(this.opts.wallet)}` : '/',
          headers,
          agent: false,
          signal: this.opts.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(this.opts.timeoutMs ?? 900_000, () =>
        req.destroy(new RpcConnectionError(`timed out waiting for the node at ${this.where()}`)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof RpcConnectionError) reject(e);
        else if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH')
          reject(
            new RpcConnectionError(`could not connect to the server ${this.where()}: is the node running?`),
          );
        else if (e.code === 'ECONNRESET')
          reject(new RpcConnectionError(`the node at ${this.where()} closed the connection`));
        else reject(new RpcConnectionError(`could not reach the node at ${this.where()}: ${e.message}`));
      });
      req.end(body);
    });
  }
}

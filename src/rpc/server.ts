// JSON-RPC over HTTP, as Bitcoin Core's httprpc.cpp behaves. Owns: listening, authentication
// (.cookie or rpcuser/rpcpassword), the IP allow-list, body limits, JSON-RPC 1.0/2.0 framing
// and batches, the method registry and the built-in help/stop/uptime. Does not own any method
// that touches the chain or wallet: those are registered by whoever wires the node. Fails by
// refusing to start (clear Error) on an unsafe bind or a bad allow-list; at run time every
// request gets an HTTP answer, and a handler's exception becomes a JSON-RPC error, never a crash.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlockList, isIP } from 'node:net';
import { isLoopback, parseAllowList } from './allowlist.js';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { join } from 'node:path';
import type { Logger } from '../primitives/logger.js';
import { RpcCode, RpcError } from './errors.js';
import { stringifyJson } from './json.js';
import { handleRest } from './rest.js';
import { checkArgs, helpOverview, helpText, METHOD_DOCS, plainHelp } from './catalog.js';
import { MissingParamError } from './params.js';

export { isLoopback, parseAllowList };

/** What a handler may know about the request: the HTTP path (/wallet/<name> picks a wallet). */
export interface RpcContext {
  uri: string;
  /** Aborted when the server stops: a handler that waits (waitfornewblock) answers at once. */
  signal?: AbortSignal;
}

/** Answers a result, or a promise of one (the return type is `unknown`, which includes promises). */
export type RpcHandler = (params: unknown[], ctx: RpcContext) => unknown;

export interface MethodOptions {
  /** Help text: what the method does, its arguments and result. */
  help?: string;
  /** Parameter names in positional order: enables named parameters and the argument-count check. */
  params?: readonly string[];
}

/**
 * A cookie (written to cookieFile, default cookieDir/.cookie) or a configured user and password,
 * plus any number of Core rpcauth entries ("user:salt$hmac", HMAC-SHA256 keyed by the salt).
 */
export type RpcAuthConfig = (
  { cookieDir: string; cookieFile?: string } | { user: string; password: string }
) & { rpcauth?: string[] };

export interface RpcServerOptions {
  /** Addresses to listen on; default 127.0.0.1 only. */
  bind?: string[];
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** rpcallowip entries: addresses or subnets (CIDR or netmask) allowed besides loopback. */
  allowIps?: string[];
  auth: RpcAuthConfig;
  maxBodyBytes?: number;
  /** Delay before answering a wrong password (deters guessing), default 250 ms as Core. */
  authFailDelayMs?: number;
  /** Called (once, after the reply is sent) when a client calls `stop`. */
  onStop?: () => void | Promise<void>;
  logger?: Logger;
  /** Serve Core's REST interface (GET /rest/…, no authentication) beside JSON-RPC. */
  rest?: boolean;
  /** debug.log's path, for getrpcinfo. */
  logPath?: string;
  /** Clock for `uptime`, in milliseconds. */
  now?: () => number;
  /**
   * Serve GET /metrics (no authentication, like REST; rpcallowip still applies) with what this
   * returns: the node's Prometheus text.
   */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Told of every call of a registered method ("unknown" for any other name), when it ends. */
  onCall?: (method: string, seconds: number, ok: boolean) => void;
}

export const COOKIE_USER = '__cookie__';
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
const WWW_AUTH = 'Basic realm="jsonrpc"';
const WARMUP_EXEMPT = new Set(['help', 'stop', 'uptime']);

type Version = 1 | 2;
interface RequestContext {
  id: unknown;
  hasId: boolean;
  version: Version;
}
interface Method {
  handler: RpcHandler;
  opts: MethodOptions;
}

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

function reply(ctx: RequestContext, result: unknown, error: RpcError | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (ctx.version === 2) out.jsonrpc = '2.0';
  if (error === null) {
    out.result = result;
    if (ctx.version === 1) out.error = null;
  } else {
    if (ctx.version === 1) out.result = null;
    out.error = error.toJSON();
  }
  if (ctx.hasId) out.id = ctx.id;
  return out;
}

function httpStatusFor(err: RpcError): number {
  if (err.code === RpcCode.INVALID_REQUEST) return 400;
  if (err.code === RpcCode.METHOD_NOT_FOUND) return 404;
  return 500;
}

export class RpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly servers: http.Server[] = [];
  private readonly allow: BlockList | null;
  private readonly bind: string[];
  private readonly maxBody: number;
  private readonly now: () => number;
  private expectedAuth: Buffer | null = null;
  private cookiePath: string | null = null;
  private cookieValue: string | null = null;
  private startedAt = 0;
  private warmup: string | null = null;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  /** Commands running now, for getrpcinfo (bounded by the connections the HTTP server holds). */
  private readonly active = new Map<number, { method: string; started: bigint }>();
  private nextCommand = 0;

  constructor(private readonly opts: RpcServerOptions) {
    this.bind = opts.bind && opts.bind.length > 0 ? opts.bind : ['127.0.0.1'];
    this.allow = opts.allowIps && opts.allowIps.length > 0 ? parseAllowList(opts.allowIps) : null;
    const exposed = this.bind.filter((h) => !isLoopback(h));
    if (exposed.length > 0 && this.allow === null)
      throw new Error(
        `refusing to bind RPC to ${exposed.join(', ')}: it is not a loopback address; set rpcallowip to the ` +
          'addresses or subnets that may connect (the RPC interface can spend the wallet)',
      );
    if ('user' in opts.auth && (opts.auth.user === '' || opts.auth.password === ''))
      throw new Error('rpcuser and rpcpassword must both be non-empty');
    this.maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.now = opts.now ?? Date.now;
    this.registerBuiltins();
  }

  register(name: string, handler: RpcHandler, opts: MethodOptions = {}): void {
    if (this.methods.has(name)) throw new Error(`RPC method ${name} registered twice`);
    // The method table decides the argument names; a handler reading other names is a bug.
    const doc = METHOD_DOCS.get(name);
    const documented = doc?.args.map((a) => a.name);
    if (documented && opts.params && documented.join(',') !== opts.params.join(','))
      throw new Error(`RPC method ${name}: parameters ${opts.params.join(',')} differ from its table entry`);
    this.methods.set(name, { handler, opts: documented ? { ...opts, params: documented } : opts });
  }

  /** Names of the registered methods. */
  methodNames(): string[] {
    return [...this.methods.keys()];
  }

  /** While set, methods other than help/stop/uptime answer -28 with this status (Core's warmup). */
  setWarmup(status: string | null): void {
    this.warmup = status;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const addr = this.servers[0]?.address() as AddressInfo | null | undefined;
    return addr?.port ?? this.opts.port;
  }

  /** Path of the cookie file while running in cookie mode. */
  get cookieFile(): string | null {
    return this.cookiePath;
  }

  async start(): Promise<void> {
    this.setupAuth();
    this.startedAt = this.now();
    try {
      let port = this.opts.port;
      for (const host of this.bind) {
        const server = http.createServer((req, res) => void this.onRequest(req, res));
        server.headersTimeout = 30_000;
        server.requestTimeout = 120_000;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.servers.push(server);
        port = (server.address() as AddressInfo).port;
      }
    } catch (e) {
      await this.stop();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE')
        throw new Error(`RPC port ${this.opts.port} is already in use (is another node running?)`);
      throw e;
    }
    this.opts.logger?.info({ bind: this.bind, port: this.port }, 'RPC server listening');
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );
    this.removeCookie();
  }

  /** Runs one method in-process, as a request would (used by the node and tests). */
  async call(method: string, params: unknown[] | Record<string, unknown> = [], uri = '/'): Promise<unknown> {
    return this.execute(method, params, { uri, signal: this.stopSignal.signal });
  }

  private setupAuth(): void {
    const auth = this.opts.auth;
    if ('user' in auth) {
      this.expectedAuth = digest(`${auth.user}:${auth.password}`);
      return;
    }
    const secret = randomBytes(32).toString('hex');
    const value = `${COOKIE_USER}:${secret}`;
    const path = auth.cookieFile ?? join(auth.cookieDir, '.cookie');
    writeFileAtomic(path, value);
    this.cookiePath = path;
    this.cookieValue = value;
    this.expectedAuth = digest(value);
  }

  private removeCookie(): void {
    if (this.cookiePath === null) return;
    try {
      // Only remove the cookie we wrote: another node may have replaced it.
      if (readFileSync(this.cookiePath, 'utf8') === this.cookieValue) rmSync(this.cookiePath);
    } catch {
      // already gone
    }
    this.cookiePath = null;
  }

  private checkAuth(header: string): boolean {
    if (!header.startsWith('Basic ') || this.expectedAuth === null) return false;
    const userPass = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    if (!userPass.includes(':')) return false;
    if (timingSafeEqual(digest(userPass), this.expectedAuth)) return true;
    return this.checkRpcAuth(userPass);
  }

  /** Core's rpcauth: the password's HMAC-SHA256, keyed by the salt's text, is the stored hex. */
  private checkRpcAuth(userPass: string): boolean {
    const colon = userPass.indexOf(':');
    const user = userPass.slice(0, colon);
    const password = userPass.slice(colon + 1);
    let ok = false;
    for (const entry of this.opts.auth.rpcauth ?? []) {
      const m = /^([^:]+):([0-9a-fA-F]+)\$([0-9a-fA-F]{64})$/.exec(entry);
      if (!m || m[1] !== user) continue;
      const mac = createHmac('sha256', m[2]).update(password).digest();
      if (timingSafeEqual(mac, Buffer.from(m[3], 'hex'))) ok = true;
    }
    return ok;
  }

  private allowed(remote: string | undefined): boolean {
    if (remote === undefined) return false;
    if (isLoopback(remote)) return true;
    if (this.allow === null) return false;
    const plain = remote.replace(/^::ffff:/i, '');
    return this.allow.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      await this.handleHttp(req, res);
    } catch (e) {
      this.opts.logger?.error({ err: e }, 'RPC request failed');
      if (!res.headersSent) this.send(res, 500, 'internal error\n', 'text/plain');
      else res.destroy();
    }
  }

  private send(res: http.ServerResponse, status: number, body: string, type = 'application/json'): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.allowed(req.socket.remoteAddress)) {
      this.opts.logger?.warn({ peer: req.socket.remoteAddress }, 'RPC connection rejected by rpcallowip');
      res.setHeader('Connection', 'close');
      this.send(res, 403, 'Forbidden\n', 'text/plain');
      return;
    }
    if (this.opts.metrics && /^\/metrics(\?|$)/.test(req.url ?? '')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        this.send(res, 405, 'metrics are read with GET\n', 'text/plain');
        return;
      }
      const m = await this.opts.metrics();
      res.writeHead(200, { 'Content-Type': m.contentType, 'Content-Length': Buffer.byteLength(m.body) });
      res.end(req.method === 'HEAD' ? undefined : m.body);
      return;
    }
    if (this.opts.rest && (req.url ?? '').startsWith('/rest/')) {
      await this.serveRest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      this.send(res, 405, 'JSONRPC server handles only POST requests\n', 'text/plain');
      return;
    }
    const authHeader = req.headers.authorization;
    if (authHeader === undefined || !this.checkAuth(authHeader)) {
      if (authHeader !== undefined) {
        this.opts.logger?.warn({ peer: req.socket.remoteAddress }, 'RPC incorrect password attempt');
        await new Promise((r) => setTimeout(r, this.opts.authFailDelayMs ?? 250));
      }
      res.setHeader('WWW-Authenticate', WWW_AUTH);
      this.send(res, 401, '', 'text/plain');
      return;
    }
    const body = await this.readBody(req, res);
    if (body === null) return;
    const out = await this.handleBody(body, req.url ?? '/');
    if (out.body === null) {
      res.writeHead(out.status);
      res.end();
    } else this.send(res, out.status, out.body + '\n');
  }

  private async serveRest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.send(res, 405, 'REST interface handles only GET requests\n', 'text/plain');
      return;
    }
    const r = await handleRest(req.url ?? '/', (method, params) =>
      this.execute(method, params, { uri: '/', signal: this.stopSignal.signal }),
    );
    res.writeHead(r.status, { 'Content-Type': r.type, 'Content-Length': Buffer.byteLength(r.body) });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<string | null> {
    const tooLarge = (): null => {
      res.setHeader('Connection', 'close');
      this.send(res, 413, 'request body too large\n', 'text/plain');
      // Stop reading: the client may still be sending; the socket closes once the reply is out.
      res.on('finish', () => req.socket.destroy());
      return null;
    };
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.maxBody) return Promise.resolve(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > this.maxBody) {
          done = true;
          req.pause();
          resolve(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', (e) => {
        if (!done) reject(e);
      });
    });
  }

  /** The JSON-RPC layer: body text in, HTTP status and body out (null body = no content). */
  async handleBody(body: string, uri = '/'): Promise<{ status: number; body: string | null }> {
    const ctx: RequestContext = { id: null, hasId: false, version: 1 };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return this.errorReply(ctx, new RpcError(RpcCode.PARSE_ERROR, 'Parse error'));
    }
    if (Array.isArray(parsed)) {
      const replies: unknown[] = [];
      for (const item of parsed) {
        const itemCtx: RequestContext = { id: null, hasId: false, version: 1 };
        const r = await this.runOne(item, itemCtx, true, uri);
        if (!(itemCtx.version === 2 && !itemCtx.hasId)) replies.push(r);
      }
      if (replies.length === 0 && parsed.length > 0) return { status: 204, body: null };
      return { status: 200, body: stringifyJson(replies) };
    }
    if (parsed === null || typeof parsed !== 'object')
      return this.errorReply(ctx, new RpcError(RpcCode.PARSE_ERROR, 'Top-level object parse error'));
    let r: Record<string, unknown>;
    try {
      // 1.0 lets errors become HTTP errors; 2.0 answers HTTP 200 with the error inside.
      r = await this.runOne(parsed, ctx, false, uri);
    } catch (e) {
      return this.errorReply(ctx, this.toRpcError(e));
    }
    if (ctx.version === 2 && !ctx.hasId) return { status: 204, body: null };
    return { status: 200, body: stringifyJson(r) };
  }

  private errorReply(ctx: RequestContext, err: RpcError): { status: number; body: string } {
    return { status: httpStatusFor(err), body: stringifyJson(reply(ctx, null, err)) };
  }

  private toRpcError(e: unknown): RpcError {
    if (e instanceof RpcError) return e;
    const message = e instanceof Error ? e.message : String(e);
    this.opts.logger?.debug({ err: e }, 'RPC handler threw');
    return new RpcError(RpcCode.MISC_ERROR, message);
  }

  /** Parses and runs one request object. With catchErrors (2.0 or in a batch) errors are replies. */
  private async runOne(
    item: unknown,
    ctx: RequestContext,
    inBatch: boolean,
    uri: string,
  ): Promise<Record<string, unknown>> {
    try {
      const { method, params } = this.parseRequest(item, ctx);
      const catchErrors = inBatch || ctx.version === 2;
      try {
        return reply(ctx, await this.execute(method, params, { uri, signal: this.stopSignal.signal }), null);
      } catch (e) {
        if (!catchErrors) throw e;
        return reply(ctx, null, this.toRpcError(e));
      }
    } catch (e) {
      if (!inBatch) throw e;
      return reply(ctx, null, this.toRpcError(e));
    }
  }

  private parseRequest(item: unknown, ctx: RequestContext): { method: string; params: unknown[] | object } {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new RpcError(RpcCode.INVALID_REQUEST, 'Invalid Request object');
    const req = item as Record<string, unknown>;
    if ('id' in req) {
      ctx.id = req.id;
      ctx.hasId = true;
    }
    const v = req.jsonrpc;
    if (v !== undefined && v !== null) {
      if (typeof v !== 'string')
        throw new RpcError(RpcCode.INVALID_REQUEST, 'jsonrpc field must be a string');
      if (v === '2.0') ctx.version = 2;
      else if (v !== '1.0') throw new RpcError(RpcCode.INVALID_REQUEST, 'JSON-RPC version not supported');
    }
    if (req.method === undefined || req.method === null)
      throw new RpcError(RpcCode.INVALID_REQUEST, 'Missing method');
    if (typeof req.method !== 'string')
      throw new RpcError(RpcCode.INVALID_REQUEST, 'Method must be a string');
    const params = req.params ?? [];
    if (typeof params !== 'object' || params === null)
      throw new RpcError(RpcCode.INVALID_REQUEST, 'Params must be an array or object');
    return { method: req.method, params };
  }

  private async execute(name: string, params: unknown[] | object, rctx: RpcContext): Promise<unknown> {
    const onCall = this.opts.onCall;
    if (onCall === undefined) return this.executeUntimed(name, params, rctx);
    const t0 = performance.now();
    const label = this.methods.has(name) ? name : 'unknown';
    try {
      const r = await this.executeUntimed(name, params, rctx);
      onCall(label, (performance.now() - t0) / 1000, true);
      return r;
    } catch (e) {
      onCall(label, (performance.now() - t0) / 1000, false);
      throw e;
    }
  }

  private async executeUntimed(name: string, params: unknown[] | object, rctx: RpcContext): Promise<unknown> {
    if (this.stopping && name !== 'stop') throw new RpcError(RpcCode.MISC_ERROR, 'Shutting down');
    // As Core's CRPCTable::execute: while warming up every method but a few answers -28 with the
    // stage, whether or not it is registered yet (most are registered only once the chain is up).
    if (this.warmup !== null && !WARMUP_EXEMPT.has(name)) throw new RpcError(RpcCode.IN_WARMUP, this.warmup);
    const m = this.methods.get(name);
    if (m === undefined) throw new RpcError(RpcCode.METHOD_NOT_FOUND, 'Method not found');
    const positional = this.positional(name, m, params);
    const doc = METHOD_DOCS.get(name);
    if (doc !== undefined) checkArgs(doc, positional, () => this.usage(name, m));
    const id = this.nextCommand++;
    this.opts.logger?.debug({ method: name, uri: rctx.uri }, 'RPC call');
    this.active.set(id, { method: name, started: process.hrtime.bigint() });
    try {
      return await m.handler(positional, rctx);
    } catch (e) {
      if (e instanceof MissingParamError) throw new RpcError(RpcCode.MISC_ERROR, this.usage(name, m));
      throw e;
    } finally {
      this.active.delete(id);
    }
  }

  /** Named parameters -> positional array (Core's transformNamedArguments). */
  private positional(name: string, m: Method, params: unknown[] | object): unknown[] {
    const names = m.opts.params;
    if (Array.isArray(params)) {
      if (names !== undefined && params.length > names.length)
        throw new RpcError(RpcCode.MISC_ERROR, this.usage(name, m));
      return params;
    }
    const named = params as Record<string, unknown>;
    const keys = Object.keys(named);
    if (keys.length === 0) return [];
    if (names === undefined)
      throw new RpcError(RpcCode.INVALID_PARAMETER, `${name} takes no named parameters`);
    for (const k of keys)
      if (!names.includes(k)) throw new RpcError(RpcCode.INVALID_PARAMETER, `Unknown named parameter ${k}`);
    const out: unknown[] = names.map((n) => named[n] ?? null);
    while (out.length > 0 && out[out.length - 1] === null) out.pop();
    return out;
  }

  /** Core's help text of one method: from the method table, else from what it registered. */
  private usage(name: string, m: Method): string {
    const doc = METHOD_DOCS.get(name);
    return doc ? helpText(name, doc, this.port || 8532) : plainHelp(name, m.opts.params ?? [], m.opts.help);
  }

  private registerBuiltins(): void {
    this.register(
      'help',
      (params) => {
        const command = params[0];
        if (command === undefined || command === null)
          return helpOverview([...this.methods].map(([n, m]) => [n, m.opts.params ?? []]));
        if (typeof command !== 'string')
          throw new RpcError(
            RpcCode.TYPE_ERROR,
            'JSON value for parameter command is not of expected type string',
          );
        const m = this.methods.get(command);
        if (m === undefined) return `help: unknown command: ${command}`;
        return this.usage(command, m);
      },
      { params: ['command'], help: 'List all commands, or get help for a specified command.' },
    );
    this.register(
      'stop',
      () => {
        if (!this.stopping) {
          this.stopping = true;
          this.stopSignal.abort();
          setImmediate(() => void Promise.resolve(this.opts.onStop?.()).catch(() => undefined));
        }
        return 'Tally server stopping';
      },
      { params: [], help: 'Request a graceful shutdown of the node.' },
    );
    this.register('getrpcinfo', () => {
      const now = process.hrtime.bigint();
      return {
        active_commands: [...this.active.values()].map((c) => ({
          method: c.method,
          duration: Number((now - c.started) / 1000n),
        })),
        logpath: this.opts.logPath ?? '',
      };
    });
    this.register('uptime', () => Math.floor((this.now() - this.startedAt) / 1000), {
      params: [],
      help: 'Returns the total uptime of the server, in seconds.',
    });
  }
}

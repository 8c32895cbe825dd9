// The node's Stratum v1 server (`tally node --stratum PORT`): hands miners jobs built from the
// node's block template, checks their shares and submits a share that meets the network target as
// a block. Owns: connections (extranonce1 each), jobs and their per-connection coinbases, the
// per-connection difficulty (suggested or variable, aiming at a share every few seconds), BIP310
// version rolling within BIP320's bits, and share accounting per worker. Does not own: templates,
// validation or relay (the node's port does; the chain checks the block). Reaches the node only
// through StratumNodePort. Bounded: connections, line length, jobs, remembered shares per
// connection, a send buffer; a client past a bound or sending garbage repeatedly is dropped. No
// socket event throws out of its handler.
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hashToBigInt } from '../consensus/pow.js';
import { coinbaseTx, type BlockTemplate } from '../mining/template.js';
import { AddressError, addressToScript, type AddressPrefixes } from '../primitives/address.js';
import { Block } from '../primitives/block.js';
import { BoundedMap, BoundedSet } from '../primitives/bounded.js';
import type { Logger } from '../primitives/logger.js';
import { bytesToHex, equalBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import {
  EXTRANONCE1_SIZE,
  EXTRANONCE2_SIZE,
  Err,
  LineReader,
  StratumError,
  VERSION_ROLLING_MASK,
  difficultyToTarget,
  hexField,
  hexToU32,
  merkleBranch,
  notifyParams,
  parseMessage,
  shareHeader,
  splitCoinbase,
  u32ToHex,
  type JobHeader,
  type Request,
} from './protocol.js';

export interface StratumNodePort {
  prefixes: AddressPrefixes;
  /** The template for the next block on the current tip. */
  template(): BlockTemplate;
  /** Submits a solved block: null when the chain accepted it, else the reason (Core's BIP22 strings). */
  submitBlock(block: Block): Promise<string | null>;
  /** Calls listener after every new tip; returns the unsubscribe. */
  onTip(listener: () => void): () => void;
  /** The payout script for a username that is not an address (the node's wallet), or null. */
  walletPayout(): Promise<Uint8Array | null>;
}

export interface StratumOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Starting difficulty of a connection (default 0.001: a share per ~4 M hashes). */
  startDifficulty?: number;
  minDifficulty?: number;
  maxDifficulty?: number;
  /** Seconds between shares that vardiff aims at (default 5). */
  shareSeconds?: number;
  /** Seconds between vardiff looks (default 30; earlier once 16 shares came in). */
  retargetSeconds?: number;
  /** Seconds between fresh jobs on the same tip, picking up new transactions (default 30). */
  jobSeconds?: number;
  /** Default 128 (Core allows 125 peers; a Stratum port is for one's own miners). */
  maxConnections?: number;
  logger?: Logger;
  now?: () => number;
}

/** Jobs remembered for late shares; older ones answer "job not found". */
const MAX_JOBS = 16;
/** Shares remembered per connection for duplicate detection (cleared on a new tip). */
const MAX_SEEN = 16384;
/** Lines of one connection waiting behind a submit that is being checked (a flood is dropped). */
const MAX_PENDING_LINES = 64;
/** Worker names one connection may authorize. */
const MAX_WORKERS_PER_CONN = 32;
/** Invalid messages before a client is dropped. */
const MAX_BAD_MESSAGES = 20;
/** Bytes queued to one client before it is dropped (Core's send buffer is ~1 MB). */
const MAX_SEND_BUFFER = 1 << 20;
/** A client that has not subscribed and authorized by then is dropped. */
const AUTH_TIMEOUT_MS = 30_000;
/** Workers whose accounting is kept (oldest by last share evicted). */
const MAX_WORKERS = 1024;
/** Accepted shares kept per worker to estimate its hash rate, over this window. */
const RATE_WINDOW_MS = 600_000;
/** Most a clock-rolled ntime may run ahead of now: Core's MAX_FUTURE_BLOCK_TIME. */
const MAX_FUTURE_S = 7200;

interface Job extends JobHeader {
  id: string;
  template: BlockTemplate;
  txs: Tx[];
  time: number;
  clean: boolean;
}

interface ConnJob {
  coinb1: Uint8Array;
  coinb2: Uint8Array;
  difficulty: number;
}

export interface WorkerStats {
  name: string;
  accepted: number;
  rejected: number;
  stale: number;
  duplicate: number;
  lowdifficulty: number;
  blocks: number;
  /** Sum of the difficulty of accepted shares. */
  acceptedwork: number;
  lastshare: number;
  /** Estimated from the accepted work over the last 10 minutes. */
  hashrate: number;
  recent: { t: number; d: number }[];
}

interface Conn {
  socket: Socket;
  id: number;
  extranonce1: Uint8Array;
  reader: LineReader;
  subscribed: boolean;
  workers: Map<string, Uint8Array>;
  payout: Uint8Array | null;
  difficulty: number;
  suggested: boolean;
  versionMask: number;
  jobs: BoundedMap<string, ConnJob>;
  seen: BoundedSet<string>;
  bad: number;
  retargetAt: number;
  sharesSince: number;
  authTimer: NodeJS.Timeout | null;
  busy: Promise<void>;
  pending: number;
}

export class StratumServer {
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  private readonly jobs = new BoundedMap<string, Job>(MAX_JOBS);
  private readonly workers = new Map<string, WorkerStats>();
  private current: Job | null = null;
  private jobSeq = 0;
  private connSeq = 0;
  private en1Next = randomBytes(4).readUInt32BE(0);
  private unsubscribe: (() => void) | null = null;
  private jobTimer: NodeJS.Timeout | null = null;
  private retargetTimer: NodeJS.Timeout | null = null;
  private readonly o: Required<Omit<StratumOptions, 'logger' | 'host'>> & { host: string };
  private boundPort = 0;
  private walletScript: Promise<Uint8Array | null> | null = null;

  constructor(
    private readonly node: StratumNodePort,
    opts: StratumOptions,
  ) {
    this.o = {
      port: opts.port,
      host: opts.host ?? '127.0.0.1',
      startDifficulty: opts.startDifficulty ?? 0.001,
      minDifficulty: opts.minDifficulty ?? 2 ** -32,
      maxDifficulty: opts.maxDifficulty ?? 2 ** 48,
      shareSeconds: opts.shareSeconds ?? 5,
      retargetSeconds: opts.retargetSeconds ?? 30,
      jobSeconds: opts.jobSeconds ?? 30,
      maxConnections: opts.maxConnections ?? 128,
      now: opts.now ?? (() => Math.floor(Date.now() / 1000)),
    };
    this.log = opts.logger;
  }

  private readonly log: StratumOptions['logger'];

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    this.newJob(true);
    this.unsubscribe = this.node.onTip(() => this.newJob(true));
    this.jobTimer = setInterval(() => this.newJob(false), this.o.jobSeconds * 1000);
    this.jobTimer.unref();
    this.retargetTimer = setInterval(() => {
      for (const c of this.conns) this.retarget(c, Date.now());
    }, 1000);
    this.retargetTimer.unref();
    const server = createServer((s) => this.accept(s));
    server.maxConnections = this.o.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log?.warn({ err: err.message }, 'stratum server error'));
    this.server = server;
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.o.port;
    this.log?.info({ host: this.o.host, port: this.boundPort }, 'stratum listening');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.jobTimer) clearInterval(this.jobTimer);
    if (this.retargetTimer) clearInterval(this.retargetTimer);
    for (const c of this.conns) c.socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Share accounting per worker (at most MAX_WORKERS, the least recently active dropped first). */
  workerStats(): readonly Readonly<WorkerStats>[] {
    return [...this.workers.values()];
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** What getstratuminfo shows. */
  info(): object {
    const now = Date.now();
    return {
      port: this.boundPort,
      bind: this.o.host,
      connections: this.conns.size,
      job: this.current?.id ?? null,
      height: this.current?.template.height ?? null,
      workers: [...this.workers.values()].map((w) => {
        const recent = w.recent.filter((r) => now - r.t <= RATE_WINDOW_MS);
        const work = recent.reduce((s, r) => s + r.d, 0);
        const span = Math.min(RATE_WINDOW_MS, Math.max(1000, now - (recent[0]?.t ?? now))) / 1000;
        const { recent: _r, ...rest } = w;
        void _r;
        return { ...rest, hashrate: Math.round((work * 2 ** 32) / span) };
      }),
    };
  }

  private newJob(clean: boolean): void {
    let template: BlockTemplate;
    try {
      template = this.node.template();
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'stratum: no template');
      return;
    }
    const txs = template.txs.map((t) => t.tx);
    const id = (++this.jobSeq).toString(16);
    const job: Job = {
      id,
      template,
      txs,
      version: template.version,
      prevHash: template.prevHash,
      coinb1: new Uint8Array(0),
      coinb2: new Uint8Array(0),
      branch: merkleBranch(txs.map((t) => t.txid())),
      bits: template.bits,
      time: template.curtime,
      clean: clean || !this.current || !equalBytes(this.current.prevHash, template.prevHash),
    };
    this.jobs.set(id, job);
    this.current = job;
    let miners = 0;
    for (const c of this.conns)
      if (c.payout) {
        this.notify(c, job);
        miners++;
      }
    this.log?.debug({ job: id, height: template.height, clean: job.clean, miners }, 'stratum job');
  }

  private accept(socket: Socket): void {
    const en1 = Buffer.alloc(EXTRANONCE1_SIZE);
    en1.writeUInt32BE(this.en1Next++ >>> 0);
    const c: Conn = {
      socket,
      id: ++this.connSeq,
      extranonce1: new Uint8Array(en1),
      reader: new LineReader(),
      subscribed: false,
      workers: new Map(),
      payout: null,
      difficulty: this.o.startDifficulty,
      suggested: false,
      versionMask: 0,
      jobs: new BoundedMap(MAX_JOBS),
      seen: new BoundedSet(MAX_SEEN),
      bad: 0,
      retargetAt: Date.now(),
      sharesSince: 0,
      authTimer: null,
      busy: Promise.resolve(),
      pending: 0,
    };
    c.authTimer = setTimeout(() => {
      if (!c.payout) this.drop(c, 'not authorized in time');
    }, AUTH_TIMEOUT_MS);
    c.authTimer.unref();
    this.conns.add(c);
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      let lines: string[];
      try {
        lines = c.reader.push(chunk);
      } catch (err) {
        this.drop(c, (err as Error).message);
        return;
      }
      // Handled in order, one at a time: a submit's await must not let the next line overtake it.
      c.pending += lines.length;
      if (c.pending > MAX_PENDING_LINES) {
        this.drop(c, `more than ${MAX_PENDING_LINES} requests waiting`);
        return;
      }
      for (const line of lines)
        c.busy = c.busy.then(async () => {
          await this.handle(c, line);
          c.pending--;
        });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (c.authTimer) clearTimeout(c.authTimer);
      this.conns.delete(c);
    });
  }

  private drop(c: Conn, why: string): void {
    this.log?.info({ conn: c.id, why }, 'stratum client dropped');
    c.socket.destroy();
  }

  private send(c: Conn, msg: object): void {
    if (c.socket.destroyed) return;
    if (c.socket.writableLength > MAX_SEND_BUFFER) {
      this.drop(c, 'not reading');
      return;
    }
    c.socket.write(JSON.stringify(msg) + '\n');
  }

  private async handle(c: Conn, line: string): Promise<void> {
    if (c.socket.destroyed) return;
    let req: Request | undefined;
    try {
      req = parseMessage(line);
      const result = await this.dispatch(c, req);
      if (req.id !== null) this.send(c, { id: req.id, result, error: null });
    } catch (err) {
      const e = err instanceof StratumError ? err : new StratumError(Err.OTHER, (err as Error).message);
      if (e.code === Err.OTHER || e.code === Err.NOT_SUBSCRIBED) c.bad++;
      this.send(c, { id: req?.id ?? null, result: null, error: [e.code, e.message, null] });
      if (c.bad > MAX_BAD_MESSAGES) this.drop(c, 'too many invalid messages');
    }
  }

  private async dispatch(c: Conn, req: Request): Promise<unknown> {
    const p = req.params;
    switch (req.method) {
      case 'mining.subscribe':
        c.subscribed = true;
        return [
          [
            ['mining.set_difficulty', String(c.id)],
            ['mining.notify', String(c.id)],
          ],
          bytesToHex(c.extranonce1),
          EXTRANONCE2_SIZE,
        ];
      case 'mining.configure':
        return this.configure(c, p);
      case 'mining.authorize':
        return this.authorize(c, p);
      case 'mining.suggest_difficulty': {
        const d = p[0];
        if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0)
          throw new StratumError(Err.OTHER, 'difficulty must be a positive number');
        c.suggested = true;
        this.setDifficulty(c, d);
        return true;
      }
      case 'mining.extranonce.subscribe':
        return false;
      case 'mining.submit':
        return this.submit(c, p);
      default:
        throw new StratumError(Err.OTHER, `unknown method ${req.method.slice(0, 64)}`);
    }
  }

  private configure(c: Conn, p: unknown[]): object {
    const exts = p[0];
    const opts = (p[1] ?? {}) as Record<string, unknown>;
    if (!Array.isArray(exts) || typeof opts !== 'object' || opts === null)
      throw new StratumError(Err.OTHER, 'mining.configure takes [extensions, options]');
    const out: Record<string, unknown> = {};
    for (const e of exts) {
      if (e !== 'version-rolling') {
        if (typeof e === 'string') out[e.slice(0, 64)] = false;
        continue;
      }
      const asked = opts['version-rolling.mask'];
      const mask = asked === undefined ? VERSION_ROLLING_MASK : hexToU32(asked, 'version-rolling.mask');
      c.versionMask = (mask & VERSION_ROLLING_MASK) >>> 0;
      out['version-rolling'] = true;
      out['version-rolling.mask'] = u32ToHex(c.versionMask);
    }
    return out;
  }

  private async authorize(c: Conn, p: unknown[]): Promise<boolean> {
    const user = p[0];
    if (typeof user !== 'string' || user.length === 0 || user.length > 128)
      throw new StratumError(Err.OTHER, 'username must be a string of 1..128 characters');
    if (!c.subscribed) throw new StratumError(Err.NOT_SUBSCRIBED, 'not subscribed');
    let payout: Uint8Array | null;
    if (!c.workers.has(user) && c.workers.size >= MAX_WORKERS_PER_CONN)
      throw new StratumError(Err.OTHER, `at most ${MAX_WORKERS_PER_CONN} workers per connection`);
    try {
      payout = addressToScript(user.split('.')[0], this.node.prefixes);
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      // One wallet address for every such user: what clients send must not grow the wallet.
      const asked = (this.walletScript ??= this.node.walletPayout());
      payout = await asked;
      // A wallet may be created later: a null answer is not kept.
      if (!payout && this.walletScript === asked) this.walletScript = null;
    }
    if (!payout)
      throw new StratumError(Err.UNAUTHORIZED, 'username is not an address and the node has no wallet');
    // The first authorized worker's address is paid for the connection's blocks.
    const first = !c.payout;
    c.payout ??= payout;
    c.workers.set(user, payout);
    if (first) {
      this.setDifficulty(c, c.difficulty);
      if (this.current) this.notify(c, this.current);
    }
    return true;
  }

  private setDifficulty(c: Conn, d: number): void {
    c.difficulty = Math.min(this.o.maxDifficulty, Math.max(this.o.minDifficulty, d));
    this.send(c, { id: null, method: 'mining.set_difficulty', params: [c.difficulty] });
  }

  private notify(c: Conn, job: Job, clean = job.clean): void {
    if (!c.payout) return;
    let parts: { coinb1: Uint8Array; coinb2: Uint8Array };
    try {
      parts = splitCoinbase(
        coinbaseTx(job.template, c.payout, 0, new Uint8Array(EXTRANONCE1_SIZE + EXTRANONCE2_SIZE)),
      );
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'stratum: cannot build the coinbase');
      return;
    }
    if (clean) c.seen.clear();
    // A job resent after a retarget keeps the easier difficulty: shares already in flight on it
    // were found at the old one (set_difficulty applies to the work that follows).
    const before = c.jobs.get(job.id);
    c.jobs.set(job.id, { ...parts, difficulty: Math.min(c.difficulty, before?.difficulty ?? Infinity) });
    this.send(c, {
      id: null,
      method: 'mining.notify',
      params: notifyParams(job.id, { ...job, ...parts }, job.time, clean),
    });
  }

  private stats(name: string): WorkerStats {
    let w = this.workers.get(name);
    if (!w) {
      if (this.workers.size >= MAX_WORKERS) {
        let oldest: WorkerStats | undefined;
        for (const x of this.workers.values()) if (!oldest || x.lastshare < oldest.lastshare) oldest = x;
        if (oldest) this.workers.delete(oldest.name);
      }
      w = {
        name,
        accepted: 0,
        rejected: 0,
        stale: 0,
        duplicate: 0,
        lowdifficulty: 0,
        blocks: 0,
        acceptedwork: 0,
        lastshare: 0,
        hashrate: 0,
        recent: [],
      };
      this.workers.set(name, w);
    }
    return w;
  }

  private async submit(c: Conn, p: unknown[]): Promise<boolean> {
    if (!c.subscribed) throw new StratumError(Err.NOT_SUBSCRIBED, 'not subscribed');
    const [user, jobId] = p;
    if (typeof user !== 'string' || !c.workers.has(user))
      throw new StratumError(Err.UNAUTHORIZED, 'unauthorized worker');
    const w = this.stats(user);
    try {
      const accepted = await this.checkShare(c, p, jobId, w);
      return accepted;
    } catch (err) {
      if (err instanceof StratumError) {
        if (err.code === Err.JOB_NOT_FOUND) w.stale++;
        else if (err.code === Err.DUPLICATE) w.duplicate++;
        else if (err.code === Err.LOW_DIFFICULTY) w.lowdifficulty++;
        else w.rejected++;
        // A stale, duplicate or low share is the miner's honest race or luck, not abuse.
        if (err.code !== Err.OTHER) c.bad = Math.max(0, c.bad - 1);
      }
      throw err;
    }
  }

  private async checkShare(c: Conn, p: unknown[], jobId: unknown, w: WorkerStats): Promise<boolean> {
    if (p.length < 5)
      throw new StratumError(Err.OTHER, 'mining.submit takes worker, job, extranonce2, ntime, nonce');
    const job = typeof jobId === 'string' ? this.jobs.get(jobId) : undefined;
    const mine = typeof jobId === 'string' ? c.jobs.get(jobId) : undefined;
    if (!job || !mine || !this.current || !equalBytes(job.prevHash, this.current.prevHash))
      throw new StratumError(Err.JOB_NOT_FOUND, 'job not found (stale)');
    const en2 = hexField(p[2], EXTRANONCE2_SIZE, 'extranonce2');
    const time = hexToU32(p[3], 'ntime');
    const nonce = hexToU32(p[4], 'nonce');
    let version = job.version;
    if (p[5] !== undefined) {
      const bits = hexToU32(p[5], 'version bits');
      if (c.versionMask === 0 || (bits & ~c.versionMask) !== 0)
        throw new StratumError(Err.OTHER, 'version bits outside the negotiated mask');
      version = ((job.version & ~c.versionMask) | bits) >>> 0;
    }
    if (time < job.template.mintime || time > this.o.now() + MAX_FUTURE_S)
      throw new StratumError(Err.OTHER, 'ntime out of range');
    const key = `${job.id}:${bytesToHex(en2)}:${time}:${nonce}:${version}`;
    if (c.seen.has(key)) throw new StratumError(Err.DUPLICATE, 'duplicate share');
    c.seen.add(key);
    const { coinbase, header } = shareHeader({ ...job, ...mine }, c.extranonce1, en2, time, nonce, version);
    const value = hashToBigInt(header.hash());
    // The easier of the job's difficulty and the current one: a retarget never voids work in flight.
    const credit = Math.min(mine.difficulty, c.difficulty);
    if (value <= job.template.target) {
      const block = new Block(header, [Tx.decode(coinbase), ...job.txs]);
      const reason = await this.node.submitBlock(block);
      if (reason !== null) throw new StratumError(Err.OTHER, `block rejected: ${reason}`);
      w.blocks++;
      this.log?.info(
        { worker: w.name, hash: header.hashHex(), height: job.template.height },
        'stratum block accepted',
      );
    } else if (value > difficultyToTarget(credit)) {
      throw new StratumError(Err.LOW_DIFFICULTY, 'low difficulty share');
    }
    const now = Date.now();
    w.accepted++;
    w.acceptedwork += credit;
    w.lastshare = Math.floor(now / 1000);
    w.recent.push({ t: now, d: credit });
    while (w.recent.length > 0 && (now - w.recent[0].t > RATE_WINDOW_MS || w.recent.length > 4096))
      w.recent.shift();
    c.sharesSince++;
    this.retarget(c, now);
    return true;
  }

  /** Variable difficulty: every retargetSeconds (or after 16 shares), aim at one share per shareSeconds. */
  private retarget(c: Conn, now: number): void {
    if (c.suggested || !c.payout) return;
    const elapsed = (now - c.retargetAt) / 1000;
    if (elapsed < this.o.retargetSeconds && c.sharesSince < 16) return;
    if (elapsed <= 0) return;
    // No share in the window: at least halve (a share "at the end" would still read as a rate).
    let factor = (c.sharesSince / elapsed) * this.o.shareSeconds;
    if (c.sharesSince === 0) factor = Math.min(0.5, this.o.shareSeconds / (2 * elapsed));
    factor = Math.min(4, Math.max(0.25, factor));
    c.retargetAt = now;
    c.sharesSince = 0;
    if (factor > 0.8 && factor < 1.25) return;
    this.setDifficulty(c, c.difficulty * factor);
    // Resend the job so the miner starts on work with the new difficulty.
    if (this.current) this.notify(c, this.current, false);
  }
}

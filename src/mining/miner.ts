// The miner: a piscina pool of hash threads searching disjoint nonce slices of one header.
// Owns: splitting the nonce range, stopping every thread through a shared epoch word (a new tip or
// template reaches all threads within one chunk of hashing), confirming a find with the plain
// sha256d, the hash rate, and the loop that asks the caller for fresh work when a header's nonce
// space is exhausted. Does not own: building templates or rolling extra-nonce and time (the
// caller's getWork does that). Fails with RangeError on a bad job or option; a find that the
// plain sha256d rejects is a kernel bug and throws.
import { workerExecArgv } from '../chain/verify-pool.js';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { sha256d } from '../crypto/hash.js';
import { resolveKernel, targetToBytes, type KernelName } from './hasher.js';
import type { SearchResult, SearchTask } from './worker.js';

export const NONCE_SPACE = 2 ** 32;
const HEADER_BYTES = 80;
const NONCE_OFFSET = 76;
/** Nonces hashed between two looks at the abort word: about 3 ms at 5 MH/s, 15 ms at 1 MH/s. */
export const DEFAULT_CHUNK = 16384;
const RATE_WINDOW_MS = 10_000;
const RATE_SAMPLE_MS = 500;

export interface MinerOptions {
  /** Hash threads; default one per core. */
  threads?: number;
  /** 'auto' picks WebAssembly SIMD where the host supports it, else the JavaScript kernel. */
  kernel?: KernelName | 'auto';
  /** Nonces between abort checks (default 16384). */
  chunk?: number;
}

export interface SearchJob {
  /** 80-byte header; its nonce field is ignored. */
  header: Uint8Array;
  /** A hash (read as a little-endian number) at or below this wins. */
  target: bigint;
  /** First nonce searched (default 0). */
  startNonce?: number;
  /** One past the last nonce searched (default 2^32). */
  endNonce?: number;
}

export interface FoundHeader {
  nonce: number;
  /** The header with the winning nonce. */
  header: Uint8Array;
  /** sha256d of the header, internal byte order. */
  hash: Uint8Array;
}

export type SearchOutcome =
  { status: 'found'; found: FoundHeader } | { status: 'exhausted' } | { status: 'aborted' };

/** What getWork hands the mining loop: a header and target, optionally a nonce sub-range. */
export type Work = SearchJob;

/**
 * Why the miner asks for work: its first header; the last one was found; its whole nonce range was
 * searched without a find (roll extra-nonce or time); or its search was aborted (new tip or template).
 */
export type WorkReason = 'start' | 'found' | 'exhausted' | 'aborted';

export function setHeaderNonce(header: Uint8Array, nonce: number): Uint8Array {
  const out = header.slice();
  new DataView(out.buffer, out.byteOffset, out.length).setUint32(NONCE_OFFSET, nonce >>> 0, true);
  return out;
}

function hashToBigInt(hash: Uint8Array): bigint {
  let n = 0n;
  for (let i = hash.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(hash[i]);
  return n;
}

export class Miner {
  private readonly control = new Int32Array(new SharedArrayBuffer(4));
  private readonly counter = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly samples: { t: number; n: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly warm: Promise<void>;
  private closed = false;

  private constructor(
    private readonly pool: Piscina,
    readonly threads: number,
    readonly kernel: KernelName,
    private readonly chunk: number,
  ) {
    this.timer = setInterval(() => this.sample(), RATE_SAMPLE_MS);
    this.timer.unref();
    this.sample();
    // One empty task per thread (piscina hands each initial thread one task) so every thread has
    // loaded and compiled its kernel before the first real search.
    const warm = Array.from({ length: threads }, () =>
      this.pool.run(this.task(new Uint8Array(HEADER_BYTES), 0, 0, 0)),
    );
    this.warm = Promise.all(warm).then(() => undefined);
    this.warm.catch(() => undefined);
  }

  /** Resolves when every thread is up with its kernel compiled; rejects if a thread cannot start. */
  ready(): Promise<void> {
    return this.warm;
  }

  private task(
    header: Uint8Array,
    start: number,
    count: number,
    epoch: number,
    target: Uint8Array = new Uint8Array(32),
  ): SearchTask {
    const task: SearchTask = {
      kernel: this.kernel,
      header,
      target,
      start,
      count,
      epoch,
      control: this.control.buffer,
      counter: this.counter.buffer,
      chunk: this.chunk,
    };
    return task;
  }

  static create(opts: MinerOptions = {}): Miner {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    const chunk = opts.chunk ?? DEFAULT_CHUNK;
    if (!Number.isInteger(chunk) || chunk < 4) throw new RangeError('chunk must be an integer >= 4');
    const kernel = resolveKernel(opts.kernel ?? 'auto');
    const pool = new Piscina({
      filename: fileURLToPath(new URL('./worker.js', import.meta.url)),
      execArgv: workerExecArgv(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
    });
    return new Miner(pool, threads, kernel, chunk);
  }

  /** Hashes done since creation, all threads. */
  get hashes(): number {
    return Number(Atomics.load(this.counter, 0));
  }

  /** Hashes per second over the last ~10 s (0 when idle that long). */
  get hashrate(): number {
    const now = performance.now();
    const oldest =
      this.samples.find((s) => now - s.t <= RATE_WINDOW_MS) ?? this.samples[this.samples.length - 1];
    if (!oldest || now - oldest.t < 1) return 0;
    return ((this.hashes - oldest.n) * 1000) / (now - oldest.t);
  }

  private sample(): void {
    const now = performance.now();
    this.samples.push({ t: now, n: this.hashes });
    while (this.samples.length > 2 && now - this.samples[1].t > RATE_WINDOW_MS) this.samples.shift();
  }

  /** Stops the current search: every thread returns within one chunk. */
  abort(): void {
    Atomics.add(this.control, 0, 1);
  }

  /** The first header in the range whose hash meets the target; null when exhausted or aborted. */
  async search(job: SearchJob): Promise<FoundHeader | null> {
    const out = await this.searchOutcome(job);
    return out.status === 'found' ? out.found : null;
  }

  /** As search(), telling an exhausted range from an aborted search. Starting it aborts any other. */
  async searchOutcome(job: SearchJob): Promise<SearchOutcome> {
    if (this.closed) throw new Error('miner is closed');
    if (!(job.header instanceof Uint8Array) || job.header.length !== HEADER_BYTES) {
      throw new RangeError('header must be 80 bytes');
    }
    const start = job.startNonce ?? 0;
    const end = job.endNonce ?? NONCE_SPACE;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > NONCE_SPACE || start > end) {
      throw new RangeError('nonce range must satisfy 0 <= startNonce <= endNonce <= 2^32');
    }
    const target = targetToBytes(job.target);
    const header = job.header.slice();
    const epoch = Atomics.add(this.control, 0, 1) + 1;
    const count = end - start;
    const tasks: Promise<SearchResult>[] = [];
    for (let i = 0; i < this.threads; i++) {
      const from = start + Math.floor((i * count) / this.threads);
      const to = start + Math.floor(((i + 1) * count) / this.threads);
      if (to === from) continue;
      const task = this.task(header, from, to - from, epoch, target);
      // The first find stops the other threads of this search (and only of this search).
      const run = (this.pool.run(task) as Promise<SearchResult>).then((r) => {
        if (r.status === 'found') Atomics.compareExchange(this.control, 0, epoch, epoch + 1);
        return r;
      });
      tasks.push(run);
    }
    const results = await Promise.all(tasks);
    const hits = results.filter((r) => r.status === 'found');
    if (hits.length > 0) {
      // Several threads may find one in the same chunk: the lowest nonce is the deterministic pick.
      hits.sort((a, b) => a.nonce - b.nonce);
      const { nonce } = hits[0];
      const found = setHeaderNonce(header, nonce);
      const hash = sha256d(found);
      if (hashToBigInt(hash) > job.target)
        throw new Error(`kernel ${this.kernel} reported nonce ${nonce} wrongly`);
      return { status: 'found', found: { nonce, header: found, hash } };
    }
    return { status: results.some((r) => r.status === 'aborted') ? 'aborted' : 'exhausted' };
  }

  /**
   * Mines until getWork returns null or the signal aborts. getWork is asked again after every
   * outcome with the reason, so the caller can roll extra-nonce or time when the nonce space is
   * exhausted, and hand over the new template after abort() (a new tip). Returns the number found.
   */
  async mine(
    getWork: (reason: WorkReason) => Promise<Work | null> | Work | null,
    onFound: (found: FoundHeader) => Promise<void> | void,
    opts: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const { signal } = opts;
    const stop = (): void => this.abort();
    signal?.addEventListener('abort', stop);
    let found = 0;
    let reason: WorkReason = 'start';
    try {
      while (!signal?.aborted) {
        const work = await getWork(reason);
        if (!work || signal?.aborted) break;
        const out = await this.searchOutcome(work);
        if (out.status === 'found') {
          found++;
          await onFound(out.found);
        }
        reason = out.status;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    return found;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort();
    clearInterval(this.timer);
    await this.pool.destroy();
  }
}

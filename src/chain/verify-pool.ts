// Parallel script verification for block connection (Bitcoin Core's CCheckQueue): a piscina pool
// of verify-worker.ts threads, and the calling thread, which verifies a share itself once it has
// handed out the block's checks (Core's master thread joins in at Wait()). With `threads` workers
// the work is shared threads + 1 ways, so Core's -par=N (which counts the main thread) is N - 1
// workers. Takes consensus/connect's ScriptCheck (decoded transactions); workers get each
// transaction's bytes as received. Owns: handing the checks out (a shared queue, drained from the
// front by every thread in slices that shrink as it empties) and picking the failure to report.
// Does not own: which flags apply or where prevouts come from (the caller's). A script failure
// is a VerifyFailure value; a crashed worker rejects the promise.
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { TxOut } from '../primitives/tx.js';
import type { ScriptCheck } from '../consensus/connect.js';
import { ScriptError } from '../script/errors.js';
import { TxSignatureChecker, verifyInput, verifyScript } from '../script/interpreter.js';
import { SigCache } from '../script/sigcache.js';
import { signatureHash } from '../script/sighash.js';
import { type VerifyFailure, type VerifyJob, type VerifyWorkerData, encodeJobs } from './verify-worker.js';

export type { ScriptCheck, VerifyFailure };

/** Thrown by CachedOnlyChecker when a signature is not in the cache: the job needs verifying. */
const MISS = new Error('sigcache-miss');

/** Answers signature checks from the cache alone, so mempool-verified txs skip the work. */
class CachedOnlyChecker extends TxSignatureChecker {
  override checkSig(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array): boolean {
    if (sig.length === 0) return false;
    const sighash = signatureHash(scriptCode, this.tx, this.inputIndex, sig[sig.length - 1]);
    if ((this.sigCache as SigCache).has(SigCache.key(sighash, pubkey, sig))) return true;
    throw MISS;
  }
}

function settledFromCache(check: ScriptCheck, cache: SigCache): boolean {
  try {
    const tx = check.tx;
    for (let i = 0; i < tx.inputs.length; i++) {
      const p = check.prevouts[i];
      const checker = new CachedOnlyChecker(tx, i, p.value, cache);
      verifyScript(tx.inputs[i].scriptSig, p.script, check.flags, checker);
    }
    return true;
  } catch {
    // A miss, or a failure the full check will name precisely.
    return false;
  }
}

/**
 * Verifies on the calling thread; the first failure or null. A block's signatures are not stored
 * in the cache (Core's ConnectBlock does not store either): they will not be seen again, and
 * storing them would push out the mempool's.
 */
function verifyInline(checks: readonly ScriptCheck[]): VerifyFailure | null {
  for (const c of checks) {
    for (let i = 0; i < c.tx.inputs.length; i++) {
      const p = c.prevouts[i];
      try {
        verifyInput(c.tx, i, new TxOut(p.value, p.script), c.flags);
      } catch (e) {
        if (e instanceof ScriptError) return { index: c.index, input: i, code: e.code };
        throw e;
      }
    }
  }
  return null;
}

/** The failure with the lowest (index, input): the one a block reports. */
export function earliestFailure(a: VerifyFailure | null, b: VerifyFailure | null): VerifyFailure | null {
  if (!a) return b;
  if (!b) return a;
  return b.index < a.index || (b.index === a.index && b.input < a.input) ? b : a;
}

/** The worker's job for a check: the transaction's bytes as received (no re-encoding), packed
 * with the others of its slice by encodeJobs and moved to the worker, not cloned. */
function toJob(c: ScriptCheck): VerifyJob {
  return {
    index: c.index,
    tx: c.tx.encode(),
    prevouts: c.prevouts.map((p) => ({ value: p.value, script: p.script })),
    flags: c.flags,
  };
}

/**
 * Tasks a worker holds at once. One, as Core's workers hold only the batch they verify: a second
 * one queued at a worker that the OS has descheduled (a busy machine) is work the calling thread
 * can no longer take, and it then waits for it. With two, bench connect at par 2 on the loaded
 * 2-core machine ran at a median 5,200 inputs/s against 7,500 with one (6 interleaved pairs,
 * CPU time the same).
 */
const IN_FLIGHT = 1;
/** Inputs in a slice handed out while checks are still being added (Core's nBatchSize is 128 checks). */
const ADD_SLICE = 16;
/** The largest slice taken once every check is in. */
const MAX_SLICE = 128;

/**
 * One block's checks (Core's CCheckQueueControl): add() queues each check and keeps every worker
 * busy; finish() lets the calling thread verify from the same queue until it is empty, then waits
 * for the workers. Verdict: the failure with the lowest (index, input), whichever thread found it.
 */
export class VerifyRun {
  private queue: ScriptCheck[] = [];
  private head = 0;
  private queuedInputs = 0;
  private inFlight = 0;
  private readonly running: Promise<void>[] = [];
  private failure: VerifyFailure | null = null;
  private adding = true;

  constructor(
    private readonly pool: Piscina | null,
    private readonly workers: number,
    private readonly sigCache?: SigCache,
  ) {}

  add(check: ScriptCheck): void {
    if (this.sigCache && settledFromCache(check, this.sigCache)) return;
    this.queue.push(check);
    this.queuedInputs += check.prevouts.length;
    if (this.pool && this.queuedInputs >= ADD_SLICE) this.feed();
  }

  /**
   * Takes checks from the front of the queue: while adding, ADD_SLICE inputs; then a share of what
   * is left that shrinks as the queue empties (Core's batch size: queue / (threads + idle + 1)),
   * so every thread ends at about the same moment.
   */
  private take(): ScriptCheck[] {
    if (this.failure) {
      // Everything still queued comes after the failure found: the verdict is settled (Core's
      // fAllOk stops the other threads too).
      this.queue = [];
      this.head = 0;
      this.queuedInputs = 0;
      return [];
    }
    const want = this.adding
      ? ADD_SLICE
      : Math.min(MAX_SLICE, Math.ceil(this.queuedInputs / (2 * (this.workers + 1))));
    const out: ScriptCheck[] = [];
    let n = 0;
    while (this.head < this.queue.length && (n === 0 || n < want)) {
      const c = this.queue[this.head++];
      out.push(c);
      n += c.prevouts.length;
    }
    this.queuedInputs -= n;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return out;
  }

  /** Hands slices to the workers until each holds IN_FLIGHT tasks or the queue is empty. */
  private feed(): void {
    const pool = this.pool;
    if (!pool) return;
    while (this.inFlight < this.workers * IN_FLIGHT && this.head < this.queue.length && !this.failure) {
      if (this.adding && this.queuedInputs < ADD_SLICE) return;
      const slice = this.take();
      this.inFlight++;
      const jobs = encodeJobs(slice.map(toJob));
      const task = pool.run(
        { jobs },
        { transferList: [jobs.buffer as ArrayBuffer] },
      ) as Promise<VerifyFailure | null>;
      const p = task.then((f) => {
        this.inFlight--;
        this.failure = earliestFailure(this.failure, f);
        this.feed();
      });
      // A rule that fails later in the block may abandon the run: never leave it unhandled.
      p.catch(() => undefined);
      this.running.push(p);
    }
  }

  /** Verifies what is left on the calling thread alongside the workers; the earliest failure or null. */
  async finish(): Promise<VerifyFailure | null> {
    this.adding = false;
    this.feed();
    while (this.head < this.queue.length) {
      this.failure = earliestFailure(this.failure, verifyInline(this.take()));
      // Let finished workers' results in, so they are handed their next slice.
      if (this.pool && this.head < this.queue.length) await yieldToLoop();
    }
    await Promise.all(this.running);
    return this.failure;
  }
}

/**
 * Node options for piscina workers. Piscina loads a worker file with require() first; on Node 20.19+
 * require() of an ES module is on by default and has crashed the process now and then with an
 * internal assertion (ModuleWrap::CreateRequiredModuleFacade). Turning it off in the workers makes
 * piscina fall back to import(), which is the path ES modules are meant to take.
 */
export function workerExecArgv(): string[] {
  const [major, minor] = process.versions.node.split('.').map(Number);
  // Only the lines where the assertion was seen (Node 20 and 22); later lines keep their defaults.
  const affected = major === 22 || (major === 20 && minor >= 17);
  return affected ? [...process.execArgv, '--no-experimental-require-module'] : [...process.execArgv];
}

/** Core's default -par: one verifying thread per core, the calling thread among them. */
export function defaultVerifyWorkers(): number {
  return Math.max(0, availableParallelism() - 1);
}

/**
 * How long close() waits for workers still loading before it terminates them anyway (a worker that
 * failed to load never reports).
 */
const LOAD_WAIT_MS = 10_000;

export class ScriptVerifyPool {
  private constructor(
    /** Worker threads; the calling thread verifies too, so threads + 1 share the work. */
    readonly threads: number,
    private readonly pool: Piscina | null,
    /** [0]: workers that have loaded verify-worker.js and everything it imports (see close()). */
    private readonly loadedCount: Int32Array,
    private readonly sigCache?: SigCache,
  ) {}

  /** Workers that have finished loading (the native secp256k1 addon included). */
  get loadedWorkers(): number {
    return Atomics.load(this.loadedCount, 0);
  }

  /**
   * threads: worker count beside the calling thread (default: one fewer than the cores, Core's
   * -par default); 0 verifies on the calling thread alone.
   * sigCache: signatures verified before (on mempool entry): checks it fully answers are settled
   * on the calling thread without being verified again.
   */
  static create(opts: { threads?: number; sigCache?: SigCache } = {}): ScriptVerifyPool {
    const threads = opts.threads ?? defaultVerifyWorkers();
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError('threads must be an integer >= 0');
    const loaded = new Int32Array(new SharedArrayBuffer(4));
    const pool =
      threads === 0
        ? null
        : new Piscina({
            filename: new URL('./verify-worker.js', import.meta.url).href,
            execArgv: workerExecArgv(),
            minThreads: threads,
            maxThreads: threads,
            idleTimeout: 60_000,
            workerData: { loaded: loaded.buffer } satisfies VerifyWorkerData,
          });
    return new ScriptVerifyPool(threads, pool, loaded, opts.sigCache);
  }

  /** A block's run: add() its checks as they are made, then finish(). */
  begin(): VerifyRun {
    return new VerifyRun(this.pool, this.threads, this.sigCache);
  }

  /** Verifies every input of every check; resolves to the failure with the lowest (index, input), or null. */
  verify(checks: readonly ScriptCheck[]): Promise<VerifyFailure | null> {
    const run = this.begin();
    for (const c of checks) run.add(c);
    return run.finish();
  }

  /**
   * Terminates the workers, once each has finished loading. The secp256k1 package's prebuilt
   * addon (node-addon-api with C++ exceptions, without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS)
   * aborts the whole process when its worker is terminated inside the addon's constructor, which
   * runs once as the worker loads: a napi call fails, rethrowing that as a JS error fails too, and
   * the C++ exception escapes ("terminate called after throwing an instance of 'Napi::Error'",
   * SIGABRT; reproduced by terminating workers that construct the addon in a loop). A node stopped
   * right after it started did that: node.test.js aborted in one of eight loaded CI runs.
   */
  async close(): Promise<void> {
    if (!this.pool) return;
    const until = performance.now() + LOAD_WAIT_MS;
    while (this.loadedWorkers < this.threads && performance.now() < until) await sleep(5);
    await this.pool.destroy();
  }
}

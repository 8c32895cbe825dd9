// Parallel script verification for block connection (Bitcoin Core's CCheckQueue): a piscina pool
// of verify-worker.ts threads, and the calling thread, which verifies a share itself once it has
// added the block's checks (Core's master thread joins in at Wait()). With `threads` workers the
// work is shared threads + 1 ways, so Core's -par=N (which counts the main thread) is N - 1
// workers. Takes consensus/connect's ScriptCheck (decoded transactions); each check is written
// to shared memory as it is made (the transaction's bytes as received, its prevouts, its flags),
// and every thread takes batches from that queue itself through an atomic cursor, as Core's
// workers do under its queue's lock: a worker never waits for the connecting thread's event loop.
// Owns: the queue and picking the failure to report. Does not own: which flags apply or where
// prevouts come from (the caller's). A script failure is a VerifyFailure value; a crashed worker
// rejects the promise.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { ScriptCheck } from '../consensus/connect.js';
import { TxSignatureChecker, verifyScript } from '../script/interpreter.js';
import { SigCache } from '../script/sigcache.js';
import { signatureHash } from '../script/sighash.js';
import {
  Ctrl,
  NO_FAILURE,
  type VerifyFailure,
  type VerifyTask,
  type VerifyWorkerData,
  jobSize,
  takeBatch,
  verifyBatch,
  verifyInputs,
  writeJob,
} from './verify-worker.js';

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
 * Verifies a check on the calling thread; its first failure or null. A block's signatures are not
 * stored in the cache (Core's ConnectBlock does not store either): they will not be seen again,
 * and storing them would push out the mempool's.
 */
function verifyInline(c: ScriptCheck): VerifyFailure | null {
  return verifyInputs(c.index, c.tx, c.prevouts, c.flags);
}

/** The failure with the lowest (index, input): the one a block reports. */
export function earliestFailure(a: VerifyFailure | null, b: VerifyFailure | null): VerifyFailure | null {
  if (!a) return b;
  if (!b) return a;
  return b.index < a.index || (b.index === a.index && b.input < a.input) ? b : a;
}

/** Shared memory a run's jobs are written to: kept by the pool and reused run after run. */
class Arena {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly offsets: Int32Array;
  constructor(
    readonly data: SharedArrayBuffer,
    readonly table: SharedArrayBuffer,
  ) {
    this.bytes = new Uint8Array(data);
    this.view = new DataView(data);
    this.offsets = new Int32Array(table);
  }
  static create(bytes: number, jobs: number): Arena {
    return new Arena(new SharedArrayBuffer(bytes), new SharedArrayBuffer(4 * (jobs + 1)));
  }
}

/**
 * A run's first arena: 4 MiB and 16,384 jobs, more than a full block of ordinary transactions
 * needs. A run that outgrows it verifies the rest on the calling thread and the next run gets
 * twice the room, up to MAX_ARENA (a 1 MB block of 10,000-byte prevout scripts could need
 * more; its overflow is verified inline).
 */
const ARENA_BYTES = 4 << 20;
const ARENA_JOBS = 16_384;
const MAX_ARENA = 64 << 20;
/**
 * Most jobs an arena's table is made for: as many as MAX_ARENA bytes can hold, no job being
 * smaller than 64 bytes (16 of record header, a transaction of at least 60, 12 per prevout).
 */
const MAX_ARENA_JOBS = MAX_ARENA / 64;
/**
 * Arenas kept for later runs once their workers have left them: the run being connected and the
 * one walked ahead of it hold two more, so at most four exist at once (16 MiB at the first size).
 */
const FREE_ARENAS = 2;

/**
 * One block's checks (Core's CCheckQueueControl): add() writes each check into shared memory
 * where the workers take it at once, with no event loop in between; finish() lets the calling
 * thread take batches from the same queue until it is empty, then waits for the workers.
 * Verdict: the failure with the lowest (index, input), whichever thread found it.
 */
export class VerifyRun {
  private readonly ctrl: Int32Array | null;
  /** checks[j]: job j, for the batches the calling thread takes (it verifies the decoded form). */
  private readonly checks: ScriptCheck[] = [];
  /** Checks the arena had no room for (and every one after them): verified by the calling thread. */
  private readonly overflow: ScriptCheck[] = [];
  private workersStarted = false;
  private tasks: Promise<VerifyFailure | null>[] = [];
  private sealed = false;
  private finished = false;

  constructor(
    private readonly owner: ScriptVerifyPool,
    private readonly pool: Piscina | null,
    private readonly workers: number,
    private readonly arena: Arena | null,
    private readonly sigCache?: SigCache,
  ) {
    this.ctrl = arena ? new Int32Array(new SharedArrayBuffer(4 * Ctrl.SIZE)) : null;
    if (this.ctrl) this.ctrl[Ctrl.FAIL] = NO_FAILURE;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  /** Jobs the workers took, and workers that joined the run (0 when it had none). */
  get workerJobs(): number {
    return this.ctrl ? Atomics.load(this.ctrl, Ctrl.WORKER_JOBS) : 0;
  }
  get workersJoined(): number {
    return this.ctrl ? Atomics.load(this.ctrl, Ctrl.JOINED) : 0;
  }

  /** No check was added (none, or each settled by the signature cache): nothing to verify. */
  get empty(): boolean {
    return this.checks.length === 0 && this.overflow.length === 0;
  }

  /** Checks the arena had no room for, verified by the calling thread alone. */
  get overflowed(): number {
    return this.overflow.length;
  }

  add(check: ScriptCheck): void {
    if (this.sealed) throw new Error('verify run sealed');
    if (this.sigCache && settledFromCache(check, this.sigCache)) return;
    const arena = this.arena;
    const ctrl = this.ctrl;
    if (!arena || !ctrl || this.overflow.length > 0) {
      this.overflow.push(check);
      return;
    }
    const j = this.checks.length;
    const tx = check.tx.encode();
    const at = arena.offsets[j];
    if (j + 1 >= arena.offsets.length || at + jobSize(tx.length, check.prevouts) > arena.bytes.length) {
      this.owner.outgrown();
      this.overflow.push(check);
      return;
    }
    const job = { index: check.index, flags: check.flags, tx, prevouts: check.prevouts };
    arena.offsets[j + 1] = writeJob(arena.bytes, arena.view, at, job);
    this.checks.push(check);
    // Publish: the job's bytes are written before ADDED says so (Atomics are sequentially consistent).
    Atomics.store(ctrl, Ctrl.ADDED, j + 1);
    Atomics.add(ctrl, Ctrl.SEQ, 1);
    if (Atomics.load(ctrl, Ctrl.IDLE) > 0) Atomics.notify(ctrl, Ctrl.SEQ, 1);
    if (!this.workersStarted) this.startWorkers(arena, ctrl);
  }

  /** Each worker joins the run (one piscina task each, for as long as the run lasts). */
  private startWorkers(arena: Arena, ctrl: Int32Array): void {
    this.workersStarted = true;
    const pool = this.pool;
    if (!pool) return;
    const task: VerifyTask = {
      ctrl: ctrl.buffer as SharedArrayBuffer,
      arena: arena.data,
      offsets: arena.table,
      threads: this.workers + 1,
    };
    for (let w = 0; w < this.workers; w++) {
      const p = pool.run(task) as Promise<VerifyFailure | null>;
      // A rule that fails later in the block abandons the run: never leave it unhandled.
      p.catch(() => undefined);
      this.tasks.push(p);
    }
  }

  /** The run is over for the workers: its arena goes back to the pool once they have left it. */
  private end(): void {
    const arena = this.arena;
    this.owner.ended(this);
    if (!arena) return;
    if (this.tasks.length === 0) this.owner.release(arena);
    else void Promise.allSettled(this.tasks).then(() => this.owner.release(arena));
  }

  /** Tells the workers to leave (a run that will not be finished, or one that is). */
  private signal(slot: number): void {
    const ctrl = this.ctrl;
    if (!ctrl) return;
    Atomics.store(ctrl, slot, 1);
    Atomics.add(ctrl, Ctrl.SEQ, 1);
    Atomics.notify(ctrl, Ctrl.SEQ);
  }

  /** A run left unfinished (its block failed, or one it builds on): its workers stop now. */
  abandon(): void {
    if (this.finished) return;
    this.finished = true;
    this.signal(Ctrl.STOP);
    this.end();
  }

  /**
   * Every check is in (Core's master thread reaching Wait()): once the queue is empty the workers
   * leave this run for the next one begun, while the calling thread does other work (walks the
   * next block) before it joins this run's checks in finish().
   */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.signal(Ctrl.DONE);
  }

  /** Verifies what is left on the calling thread alongside the workers; the earliest failure or null. */
  async finish(): Promise<VerifyFailure | null> {
    if (this.finished) throw new Error('verify run already finished or abandoned');
    this.seal();
    this.finished = true;
    try {
      let failure = this.verifyHere();
      for (const f of await Promise.all(this.tasks)) failure = earliestFailure(failure, f);
      return failure;
    } finally {
      this.end();
    }
  }

  /** The calling thread's share: batches from the queue beside the workers, then the overflow. */
  private verifyHere(): VerifyFailure | null {
    const ctrl = this.ctrl;
    let failure: VerifyFailure | null = null;
    if (ctrl) {
      for (let batch = takeBatch(ctrl, this.workers + 1); batch; batch = takeBatch(ctrl, this.workers + 1))
        failure ??= verifyBatch(ctrl, batch[0], batch[1], (j) => verifyInline(this.checks[j]));
    }
    // The overflow comes after every job in the arena: a failure there settles the verdict.
    if (!ctrl || Atomics.load(ctrl, Ctrl.FAIL) === NO_FAILURE) {
      for (const c of this.overflow) {
        const f = verifyInline(c);
        if (f) return earliestFailure(failure, f);
      }
    }
    return failure;
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
  /** Runs begun and not yet finished or abandoned, oldest first (the workers serve them in order). */
  private readonly open = new Set<VerifyRun>();
  /** Arenas no run is using, of the current size. */
  private readonly free: Arena[] = [];
  private grow = false;

  private constructor(
    /** Worker threads; the calling thread verifies too, so threads + 1 share the work. */
    readonly threads: number,
    private readonly pool: Piscina | null,
    /** [0]: workers that have loaded verify-worker.js and everything it imports (see close()). */
    private readonly loadedCount: Int32Array,
    private readonly sigCache: SigCache | undefined,
    private arenaSize: { bytes: number; jobs: number },
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
   * arena: the first run's shared memory (default ARENA_BYTES, ARENA_JOBS); tests make it small.
   */
  static create(
    opts: { threads?: number; sigCache?: SigCache; arena?: { bytes: number; jobs: number } } = {},
  ): ScriptVerifyPool {
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
            // A worker holds the run it serves and the one begun after it, so it moves on to the
            // next block's checks by itself, without a message through this thread's event loop.
            concurrentTasksPerWorker: 2,
            workerData: { loaded: loaded.buffer } satisfies VerifyWorkerData,
          });
    const arena = opts.arena ?? { bytes: ARENA_BYTES, jobs: ARENA_JOBS };
    return new ScriptVerifyPool(threads, pool, loaded, opts.sigCache, arena);
  }

  /**
   * A block's run: add() its checks as they are made, then finish() (or seal() first, and begin
   * the next block's run before this one's finish(): the workers take this run's checks, then the
   * next's). A run not finished must be abandoned; one not even sealed is abandoned here.
   */
  begin(): VerifyRun {
    // A run still taking checks when another begins was left behind (its block failed a rule
    // and nobody abandoned it): the workers would wait on it for ever, the later runs behind it.
    for (const run of this.open) if (!run.isSealed) run.abandon();
    let arena: Arena | null = null;
    if (this.pool) {
      if (this.grow) {
        this.grow = false;
        this.free.length = 0;
        this.arenaSize = {
          bytes: Math.min(MAX_ARENA, this.arenaSize.bytes * 2),
          jobs: Math.min(MAX_ARENA_JOBS, this.arenaSize.jobs * 2),
        };
      }
      arena = this.free.pop() ?? Arena.create(this.arenaSize.bytes, this.arenaSize.jobs);
    }
    const run = new VerifyRun(this, this.pool, this.threads, arena, this.sigCache);
    this.open.add(run);
    return run;
  }

  /** A run had no room for a check: the next run gets a bigger arena. */
  outgrown(): void {
    this.grow = true;
  }

  /** A run finished or was abandoned. */
  ended(run: VerifyRun): void {
    this.open.delete(run);
  }

  /** An arena its run's workers have left: the next run may take it (if it is of the current size). */
  release(arena: Arena): void {
    if (arena.data.byteLength === this.arenaSize.bytes && this.free.length < FREE_ARENAS)
      this.free.push(arena);
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
    for (const run of [...this.open]) run.abandon();
    if (!this.pool) return;
    const until = performance.now() + LOAD_WAIT_MS;
    while (this.loadedWorkers < this.threads && performance.now() < until) await sleep(5);
    await this.pool.destroy();
  }
}

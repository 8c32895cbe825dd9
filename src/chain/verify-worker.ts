// Script verification worker for ScriptVerifyPool (Bitcoin Core's CCheckQueue worker loop): a run's
// jobs sit in shared memory, written there by the connecting thread as it walks a block, and each
// worker takes batches of them itself (an atomic cursor), sleeping on a futex when the queue is
// empty. No job passes through an event loop, so a worker keeps verifying while the connecting
// thread is busy. Out: the worker's earliest failure. Imports only primitives/ and script/ so a
// worker starts light.
import { workerData } from 'node:worker_threads';
import { BufferReader, DecodeError } from '../primitives/bytes.js';
import { Tx, TxOut } from '../primitives/tx.js';
import { ScriptError } from '../script/errors.js';
import { verifyInput } from '../script/interpreter.js';

/** What the pool gives each worker (piscina's workerData). */
export interface VerifyWorkerData {
  /** Int32 [0]: workers done loading; a worker adds 1 once its imports (secp256k1's addon) are in. */
  loaded: SharedArrayBuffer;
}

/** Slots of a run's control words (an Int32Array over a SharedArrayBuffer of its own). */
export const Ctrl = {
  /** Jobs published so far (the connecting thread stores it after writing each job). */
  ADDED: 0,
  /** The next job not yet taken by any thread. */
  CURSOR: 1,
  /** 1 once every job is in (Core's master thread reaching Wait()). */
  DONE: 2,
  /** 1 when the run is abandoned (a block that failed another rule): workers leave at once. */
  STOP: 3,
  /** The lowest job number that failed so far; jobs after it need no verifying (Core's fAllOk). */
  FAIL: 4,
  /** Bumped after every change above; a worker with nothing to do sleeps on it. */
  SEQ: 5,
  /** Workers asleep on SEQ (Core's nIdle); the connecting thread wakes one only when one sleeps. */
  IDLE: 6,
  /** Jobs the workers took (for tests and the bench). */
  WORKER_JOBS: 7,
  /** Workers that joined the run (for tests). */
  JOINED: 8,
  SIZE: 9,
} as const;

/** No failure yet (Ctrl.FAIL). */
export const NO_FAILURE = 0x7fffffff;

/** The largest batch a thread takes at once (Core's nBatchSize). */
const MAX_BATCH = 128;

/** A run's shared memory, as sent to each worker for that run. */
export interface VerifyTask {
  ctrl: SharedArrayBuffer;
  /** Job records back to back; job j is bytes [offsets[j], offsets[j + 1]). */
  arena: SharedArrayBuffer;
  offsets: SharedArrayBuffer;
  /** Threads verifying this run, the connecting thread among them (Core's nTotal). */
  threads: number;
}

/**
 * Claims the next batch of published jobs: [start, end), or null when none is waiting. Core's
 * batch size: what is waiting / (threads + idle + 1), at least 1 and at most MAX_BATCH, so a
 * busy queue is shared out in big batches and its end in small ones that finish together.
 */
export function takeBatch(ctrl: Int32Array, threads: number): [number, number] | null {
  for (;;) {
    const cursor = Atomics.load(ctrl, Ctrl.CURSOR);
    const waiting = Atomics.load(ctrl, Ctrl.ADDED) - cursor;
    if (waiting <= 0) return null;
    const idle = Atomics.load(ctrl, Ctrl.IDLE);
    const n = Math.max(1, Math.min(MAX_BATCH, Math.floor(waiting / (threads + idle + 1))));
    if (Atomics.compareExchange(ctrl, Ctrl.CURSOR, cursor, cursor + n) === cursor)
      return [cursor, cursor + n];
  }
}

/** Records job `job` as failed unless an earlier one has. */
function noteFailure(ctrl: Int32Array, job: number): void {
  for (;;) {
    const seen = Atomics.load(ctrl, Ctrl.FAIL);
    if (seen <= job || Atomics.compareExchange(ctrl, Ctrl.FAIL, seen, job) === seen) return;
  }
}

export interface VerifyJob {
  /** Caller's id for the transaction (its position in the block, say). */
  index: number;
  /** The raw transaction. */
  tx: Uint8Array;
  /** prevouts[i]: the output input i spends. */
  prevouts: readonly { value: bigint; script: Uint8Array }[];
  flags: number;
}

export interface VerifyFailure {
  index: number;
  input: number;
  /** A ScriptErrorCode, or DECODE for a job whose tx or prevouts do not fit together. */
  code: string;
}

/** The bytes of a job's record: index, flags, tx length, tx, prevout count, then per prevout its
 * value, script length and script (fixed-width fields: a record decodes one way only). */
export function jobSize(txLength: number, prevouts: readonly { script: Uint8Array }[]): number {
  let size = 16 + txLength;
  for (const p of prevouts) size += 12 + p.script.length;
  return size;
}

/** Writes a job's record at `at` (jobSize bytes); returns the offset after it. */
export function writeJob(bytes: Uint8Array, view: DataView, at: number, job: VerifyJob): number {
  view.setUint32(at, job.index, true);
  view.setUint32(at + 4, job.flags, true);
  view.setUint32(at + 8, job.tx.length, true);
  bytes.set(job.tx, at + 12);
  at += 12 + job.tx.length;
  view.setUint32(at, job.prevouts.length, true);
  at += 4;
  for (const p of job.prevouts) {
    view.setBigUint64(at, p.value, true);
    view.setUint32(at + 8, p.script.length, true);
    bytes.set(p.script, at + 12);
    at += 12 + p.script.length;
  }
  return at;
}

/** The records in `data`, back to back (their bytes are views into `data`); junk is a DecodeError. */
export function readJobs(data: Uint8Array): VerifyJob[] {
  const r = new BufferReader(data);
  const out: VerifyJob[] = [];
  while (r.remaining > 0) {
    const index = r.u32('index');
    const flags = r.u32('flags');
    const tx = r.bytes(r.u32('tx'), 'tx');
    const prevouts: { value: bigint; script: Uint8Array }[] = [];
    const m = r.u32('prevouts');
    // Each prevout takes 12 bytes at least: a count beyond what is left is junk, not an allocation.
    if (m * 12 > r.remaining) throw new DecodeError('prevout count beyond the data', 'prevouts');
    for (let k = 0; k < m; k++) {
      const value = r.u64('value');
      prevouts.push({ value, script: r.bytes(r.u32('script'), 'script') });
    }
    out.push({ index, tx, prevouts, flags });
  }
  return out;
}

/**
 * Verifies every input of `tx` (transaction `index` of its block) against its prevouts; the first
 * failure or null. The worker's jobs and the calling thread's share both end here.
 */
export function verifyInputs(
  index: number,
  tx: Tx,
  prevouts: readonly { value: bigint; script: Uint8Array }[],
  flags: number,
): VerifyFailure | null {
  for (let i = 0; i < tx.inputs.length; i++) {
    const p = prevouts[i];
    try {
      verifyInput(tx, i, new TxOut(p.value, p.script), flags);
    } catch (e) {
      if (e instanceof ScriptError) return { index, input: i, code: e.code };
      throw e;
    }
  }
  return null;
}

/** Verifies a job read from shared memory; its first failure or null. */
function verifyJob(job: VerifyJob): VerifyFailure | null {
  let tx: Tx;
  try {
    tx = Tx.decode(job.tx);
  } catch {
    return { index: job.index, input: -1, code: 'DECODE' };
  }
  if (tx.inputs.length !== job.prevouts.length) return { index: job.index, input: -1, code: 'DECODE' };
  return verifyInputs(job.index, tx, job.prevouts, job.flags);
}

/**
 * Verifies jobs [start, end) of a batch in order with `verify`, skipping those after the earliest
 * failure any thread has found; records and returns this batch's first failure, or null.
 */
export function verifyBatch(
  ctrl: Int32Array,
  start: number,
  end: number,
  verify: (job: number) => VerifyFailure | null,
): VerifyFailure | null {
  for (let j = start; j < end && j <= Atomics.load(ctrl, Ctrl.FAIL); j++) {
    const f = verify(j);
    if (f) {
      noteFailure(ctrl, j);
      return f;
    }
  }
  return null;
}

// This module's imports (the native secp256k1 addon among them) are evaluated by now: the pool may
// terminate this worker from here on without catching the addon in its load (ScriptVerifyPool.close).
const data = workerData as VerifyWorkerData | null;
if (data?.loaded) Atomics.add(new Int32Array(data.loaded), 0, 1);

/**
 * One run, as long as it lasts: take a batch, copy its records out of shared memory (the only
 * read of it), verify them; sleep when nothing waits; leave once every job is in and taken, or
 * at once when the run is abandoned. No cache in the worker: a block is verified once, and
 * signatures seen before (on mempool entry) are settled by the pool's cache on the calling thread.
 */
export default function run(task: VerifyTask): VerifyFailure | null {
  const ctrl = new Int32Array(task.ctrl);
  const arena = new Uint8Array(task.arena);
  const offsets = new Int32Array(task.offsets);
  Atomics.add(ctrl, Ctrl.JOINED, 1);
  let failure: VerifyFailure | null = null;
  for (;;) {
    // Read before looking, so a change made after the look wakes the wait below at once.
    const seq = Atomics.load(ctrl, Ctrl.SEQ);
    if (Atomics.load(ctrl, Ctrl.STOP)) return failure;
    const done = Atomics.load(ctrl, Ctrl.DONE);
    const batch = takeBatch(ctrl, task.threads);
    if (batch) {
      const [start, end] = batch;
      Atomics.add(ctrl, Ctrl.WORKER_JOBS, end - start);
      // The connecting thread published these jobs (ADDED) after writing them: they are whole.
      const jobs = readJobs(arena.slice(offsets[start], offsets[end]));
      failure ??= verifyBatch(ctrl, start, end, (j) => verifyJob(jobs[j - start]));
      continue;
    }
    if (done) return failure;
    Atomics.add(ctrl, Ctrl.IDLE, 1);
    Atomics.wait(ctrl, Ctrl.SEQ, seq);
    Atomics.sub(ctrl, Ctrl.IDLE, 1);
  }
}

// Script verification worker for ScriptVerifyPool: plain data in (raw txs, prevouts, flags, all
// packed into one buffer the pool hands over without copying), the first failure out. Imports only
// primitives/ and script/ so a worker starts light.
import { workerData } from 'node:worker_threads';
import { BufferReader, BufferWriter } from '../primitives/bytes.js';
import { Tx, TxOut } from '../primitives/tx.js';
import { ScriptError } from '../script/errors.js';
import { verifyInput } from '../script/interpreter.js';

/** What the pool gives each worker (piscina's workerData). */
export interface VerifyWorkerData {
  /** Int32 [0]: workers done loading; a worker adds 1 once its imports (secp256k1's addon) are in. */
  loaded: SharedArrayBuffer;
}

export interface VerifyJob {
  /** Caller's id for the transaction (its position in the block, say). */
  index: number;
  /** The raw transaction. */
  tx: Uint8Array;
  /** prevouts[i]: the output input i spends. */
  prevouts: { value: bigint; script: Uint8Array }[];
  flags: number;
}

export interface VerifyFailure {
  index: number;
  input: number;
  /** A ScriptErrorCode, or DECODE for a job whose tx or prevouts do not fit together. */
  code: string;
}

/**
 * Packs jobs into one buffer: per job its index, flags, raw transaction and prevouts (value and
 * script). Posting the jobs as objects made the structured clone copy every buffer their bytes
 * sit in (a whole block's, for scripts read out of it): piscina's postTask took 242 ms of the
 * connecting thread in a two-thread bench connect, 152 ms packed. One buffer is moved to the worker instead.
 */
export function encodeJobs(jobs: readonly VerifyJob[]): Uint8Array {
  let size = 9;
  for (const j of jobs) {
    size += 8 + 9 + j.tx.length + 9;
    for (const p of j.prevouts) size += 8 + 9 + p.script.length;
  }
  const w = new BufferWriter(size).varint(jobs.length);
  for (const j of jobs) {
    w.u32(j.index).u32(j.flags).varint(j.tx.length).bytes(j.tx).varint(j.prevouts.length);
    for (const p of j.prevouts) w.u64(p.value).varint(p.script.length).bytes(p.script);
  }
  return w.finish();
}

/** encodeJobs' inverse (the bytes views into `data`). */
export function decodeJobs(data: Uint8Array): VerifyJob[] {
  const r = new BufferReader(data);
  const out: VerifyJob[] = [];
  const n = r.varint('jobs', r.remaining);
  for (let i = 0; i < n; i++) {
    const index = r.u32('index');
    const flags = r.u32('flags');
    const tx = r.bytes(r.varint('tx', r.remaining), 'tx');
    const prevouts: VerifyJob['prevouts'] = [];
    const m = r.varint('prevouts', r.remaining);
    for (let k = 0; k < m; k++) {
      const value = r.u64('value');
      prevouts.push({ value, script: r.bytes(r.varint('script', r.remaining), 'script') });
    }
    out.push({ index, tx, prevouts, flags });
  }
  r.end('jobs');
  return out;
}

/** Verifies every input of every job in order; returns the first failure or null. */
function verifyJobs(jobs: VerifyJob[]): VerifyFailure | null {
  for (const job of jobs) {
    let tx: Tx;
    try {
      tx = Tx.decode(job.tx);
    } catch {
      return { index: job.index, input: -1, code: 'DECODE' };
    }
    if (tx.inputs.length !== job.prevouts.length) return { index: job.index, input: -1, code: 'DECODE' };
    for (let i = 0; i < tx.inputs.length; i++) {
      const p = job.prevouts[i];
      try {
        verifyInput(tx, i, new TxOut(p.value, p.script), job.flags);
      } catch (e) {
        if (e instanceof ScriptError) return { index: job.index, input: i, code: e.code };
        throw e;
      }
    }
  }
  return null;
}

// This module's imports (the native secp256k1 addon among them) are evaluated by now: the pool may
// terminate this worker from here on without catching the addon in its load (ScriptVerifyPool.close).
const data = workerData as VerifyWorkerData | null;
if (data?.loaded) Atomics.add(new Int32Array(data.loaded), 0, 1);

// No cache in the worker: a block is verified once, and signatures seen before (on mempool entry)
// are settled by the pool's cache on the calling thread.
export default function run(task: { jobs: Uint8Array }): VerifyFailure | null {
  return verifyJobs(decodeJobs(task.jobs));
}

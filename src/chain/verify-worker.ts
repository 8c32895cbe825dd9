// Script verification worker for ScriptVerifyPool: plain data in (raw txs, prevouts, flags),
// the first failure out. Imports only primitives/ and script/ so a worker starts light.
import { workerData } from 'node:worker_threads';
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
export default function run(task: { jobs: VerifyJob[] }): VerifyFailure | null {
  return verifyJobs(task.jobs);
}

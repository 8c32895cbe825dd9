// The nonce search a mining thread runs (a piscina task). Owns: scanning one nonce slice in
// chunks, publishing the hash count and stopping within a chunk when the shared epoch moves on.
// Does not own: splitting ranges or verifying a find again (miner.ts). Imports nothing but the
// hasher, so each thread loads the smallest graph; messages are plain data. A bad task (header not
// 80 bytes, unknown kernel) rejects the task's promise with the hasher's RangeError.
import { createKernel, hashHeaderWithNonce, hashMeetsTarget, targetTopWord } from './hasher.js';
import type { KernelName, NonceKernel } from './hasher.js';

export interface SearchTask {
  kernel: KernelName;
  /** 80 bytes; its nonce field is ignored. */
  header: Uint8Array;
  /** 32 bytes, little-endian (the order block hashes are compared in). */
  target: Uint8Array;
  /** First nonce and how many to scan (at most 2^32). */
  start: number;
  count: number;
  /** The search this task belongs to; it stops as soon as control[0] differs. */
  epoch: number;
  /** Int32Array view: [0] the current epoch. */
  control: SharedArrayBuffer;
  /** BigInt64Array view: [0] hashes done by all threads. */
  counter: SharedArrayBuffer;
  /** Most nonces between two checks of the epoch. */
  chunk: number;
}

export type SearchResult =
  | { status: 'found'; nonce: number; hash: Uint8Array; hashes: number }
  | { status: 'exhausted' | 'aborted'; hashes: number };

const kernels = new Map<KernelName, NonceKernel>();

// Chunks are sized by time as well as count: before V8 has optimised the kernel (the unrolled JS
// kernel runs ~100x slower in the interpreter for its first few thousand nonces), a fixed 16k-nonce
// chunk would keep a thread deaf to abort for seconds.
const MIN_CHUNK = 64;
const CHUNK_MS = 4;

/**
 * Runs small scans until V8 has optimised the kernel (256 nonces in under 1 ms; at most 16k
 * nonces). Starts alternate below and above 2^31 so that the optimised code already expects nonces
 * that do not fit a small integer; meeting them later in a search would deoptimise it mid-search.
 */
function warmedUp(kernel: NonceKernel): NonceKernel {
  kernel.setJob(new Uint8Array(80), 0);
  for (let i = 0; i < 64; i++) {
    const t0 = performance.now();
    kernel.scan((i & 1 ? 0xffff0000 : 0) + i * 256, 256);
    if (i >= 2 && performance.now() - t0 < 1) break;
  }
  return kernel;
}

export default function search(task: SearchTask): SearchResult {
  let kernel = kernels.get(task.kernel);
  if (!kernel) {
    kernel = warmedUp(createKernel(task.kernel));
    kernels.set(task.kernel, kernel);
  }
  const control = new Int32Array(task.control);
  const counter = new BigInt64Array(task.counter);
  kernel.setJob(task.header, targetTopWord(task.target));
  let done = 0;
  let pos = 0;
  let chunk = Math.min(MIN_CHUNK, task.chunk);
  while (pos < task.count) {
    if (Atomics.load(control, 0) !== task.epoch) return { status: 'aborted', hashes: done };
    const n = Math.min(chunk, task.count - pos);
    const start = (task.start + pos) >>> 0;
    const t0 = performance.now();
    const hit = kernel.scan(start, n);
    const ms = performance.now() - t0;
    if (ms > CHUNK_MS) chunk = Math.max(MIN_CHUNK, chunk >>> 1);
    else if (hit < 0 && ms < CHUNK_MS / 2) chunk = Math.min(task.chunk, chunk * 2);
    // Distance from start, modulo 2^32: the slice may wrap past nonce 0xffffffff.
    const scanned = hit < 0 ? n : ((hit - start) >>> 0) + 1;
    pos += scanned;
    done += scanned;
    Atomics.add(counter, 0, BigInt(scanned));
    if (hit >= 0) {
      // The kernel compared the top 32 bits only; the full hash decides.
      const hash = hashHeaderWithNonce(task.header, hit);
      if (hashMeetsTarget(hash, task.target)) return { status: 'found', nonce: hit, hash, hashes: done };
    }
  }
  return { status: 'exhausted', hashes: done };
}

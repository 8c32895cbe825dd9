// The portable SHA-256d nonce kernel (plain JavaScript, one nonce at a time) and the scalar
// SHA-256 pieces both kernels share: the compression function, the midstate of
// a header's first 64 bytes and the full double hash of a header with a given nonce.
// Owns: the kernel used where WebAssembly SIMD is unavailable. Its hot loop is the generated,
// fully unrolled sha256-kernel-js-unrolled.ts (scripts/gen-sha256-kernel.ts).
// Does not own: choosing a kernel (hasher.ts) or threads (miner.ts). Never throws on well-formed
// input; `setJob` throws RangeError for a header that is not 80 bytes.
import { JOB_WORDS, prepareJob, scanUnrolled } from './sha256-kernel-js-unrolled.js';
import { DIGEST_BITS, HEADER_BITS, IV, K, PAD_WORD } from './sha256-constants.js';

export const HEADER_BYTES = 80;

export function readBE32(b: Uint8Array, off: number): number {
  return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
}

export function bswap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0;
}

/** Fills w[16..63] from w[0..15]. */
function expand(w: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15];
    const y = w[t - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (s1 + w[t - 7] + s0 + w[t - 16]) | 0;
  }
}

function S0(a: number): number {
  return ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
}
function S1(e: number): number {
  return ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
}
function ch(e: number, f: number, g: number): number {
  return g ^ (e & (f ^ g));
}
function maj(a: number, b: number, c: number): number {
  return (a & b) | (c & (a | b));
}

/**
 * out = init + compress(init, w) where w[0..15] is the block and w[16..63] is overwritten with its
 * schedule. Eight rounds per loop turn with the roles of a..h rotated instead of shuffling eight
 * variables each round.
 */
export function compress(out: Int32Array, init: Int32Array, w: Int32Array): void {
  expand(w);
  let a = init[0],
    b = init[1],
    c = init[2],
    d = init[3],
    e = init[4],
    f = init[5],
    g = init[6],
    h = init[7];
  for (let t = 0; t < 64; t += 8) {
    h = (h + S1(e) + ch(e, f, g) + K[t] + w[t]) | 0;
    d = (d + h) | 0;
    h = (h + S0(a) + maj(a, b, c)) | 0;
    g = (g + S1(d) + ch(d, e, f) + K[t + 1] + w[t + 1]) | 0;
    c = (c + g) | 0;
    g = (g + S0(h) + maj(h, a, b)) | 0;
    f = (f + S1(c) + ch(c, d, e) + K[t + 2] + w[t + 2]) | 0;
    b = (b + f) | 0;
    f = (f + S0(g) + maj(g, h, a)) | 0;
    e = (e + S1(b) + ch(b, c, d) + K[t + 3] + w[t + 3]) | 0;
    a = (a + e) | 0;
    e = (e + S0(f) + maj(f, g, h)) | 0;
    d = (d + S1(a) + ch(a, b, c) + K[t + 4] + w[t + 4]) | 0;
    h = (h + d) | 0;
    d = (d + S0(e) + maj(e, f, g)) | 0;
    c = (c + S1(h) + ch(h, a, b) + K[t + 5] + w[t + 5]) | 0;
    g = (g + c) | 0;
    c = (c + S0(d) + maj(d, e, f)) | 0;
    b = (b + S1(g) + ch(g, h, a) + K[t + 6] + w[t + 6]) | 0;
    f = (f + b) | 0;
    b = (b + S0(c) + maj(c, d, e)) | 0;
    a = (a + S1(f) + ch(f, g, h) + K[t + 7] + w[t + 7]) | 0;
    e = (e + a) | 0;
    a = (a + S0(b) + maj(b, c, d)) | 0;
  }
  out[0] = (init[0] + a) | 0;
  out[1] = (init[1] + b) | 0;
  out[2] = (init[2] + c) | 0;
  out[3] = (init[3] + d) | 0;
  out[4] = (init[4] + e) | 0;
  out[5] = (init[5] + f) | 0;
  out[6] = (init[6] + g) | 0;
  out[7] = (init[7] + h) | 0;
}

function checkHeader(header: Uint8Array): void {
  if (header.length !== HEADER_BYTES) throw new RangeError(`header must be 80 bytes, got ${header.length}`);
}

/** SHA-256 state after the header's first 64 bytes: the part every nonce shares. */
export function headerMidstate(header: Uint8Array): Int32Array {
  checkHeader(header);
  const w = new Int32Array(64);
  for (let i = 0; i < 16; i++) w[i] = readBE32(header, 4 * i);
  const mid = new Int32Array(8);
  compress(mid, IV, w);
  return mid;
}

/** The three big-endian words of the second block that precede the nonce (merkle tail, time, bits). */
export function headerTailWords(header: Uint8Array): [number, number, number] {
  checkHeader(header);
  return [readBE32(header, 64), readBE32(header, 68), readBE32(header, 72)];
}

/** sha256d(header with `nonce`), internal byte order, computed with the scalar kernel. */
export function hashHeaderWithNonce(header: Uint8Array, nonce: number): Uint8Array {
  const mid = headerMidstate(header);
  const w = new Int32Array(64);
  [w[0], w[1], w[2]] = headerTailWords(header);
  w[3] = bswap32(nonce);
  w[4] = PAD_WORD;
  w[15] = HEADER_BITS;
  const s = new Int32Array(8);
  compress(s, mid, w);
  const w2 = new Int32Array(64);
  w2.set(s);
  w2[8] = PAD_WORD;
  w2[15] = DIGEST_BITS;
  compress(s, IV, w2);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    out[4 * i] = s[i] >>> 24;
    out[4 * i + 1] = s[i] >>> 16;
    out[4 * i + 2] = s[i] >>> 8;
    out[4 * i + 3] = s[i];
  }
  return out;
}

/**
 * The nonce kernel interface every kernel implements. `scan` hashes nonces start, start+1, ...
 * (count of them, wrapping past 2^32 - 1 to 0) and returns the first whose hash's top 32 bits
 * (bytes 28..31 read little-endian) are <= the job's targetTop, or -1. A returned nonce is only a
 * candidate: the caller confirms the full hash against the whole target.
 */
export interface NonceKernel {
  readonly name: KernelName;
  setJob(header: Uint8Array, targetTop: number): void;
  scan(start: number, count: number): number;
}

export type KernelName =
  'native-avx512' | 'native-sha-ni' | 'native-avx2' | 'native-scalar' | 'wasm-simd' | 'js';

export class JsKernel implements NonceKernel {
  readonly name = 'js';
  private readonly job = new Int32Array(JOB_WORDS);
  private targetTop = 0;

  setJob(header: Uint8Array, targetTop: number): void {
    prepareJob(headerMidstate(header), headerTailWords(header), this.job);
    this.targetTop = targetTop >>> 0;
  }

  scan(start: number, count: number): number {
    return scanUnrolled(this.job, this.targetTop, start >>> 0, count);
  }
}

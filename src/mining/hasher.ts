// The hasher the mining workers load: picks a nonce kernel and checks a candidate against the
// whole target. Owns: kernel choice ('auto' = the fastest native path the addon and processor
// offer, else WebAssembly SIMD where the host compiles it, else the JavaScript kernel) and the
// target encoding the workers share. Does not own: threads
// (miner.ts). Fails with RangeError on an unknown kernel name or a target outside 0..2^256-1.
import { JsKernel, hashHeaderWithNonce, type KernelName, type NonceKernel } from './sha256-kernel-js.js';
import { NativeKernel, nativeKernels, nativeStatus } from './sha256-kernel-native.js';
import { WasmSimdKernel, wasmSimdSupported } from './sha256-kernel-wasm.js';

export { hashHeaderWithNonce, nativeStatus, type KernelName, type NonceKernel };

/** Every kernel this host runs, fastest first: native paths, then WebAssembly SIMD, then JS. */
export const KERNELS: readonly KernelName[] = [...nativeKernels(), 'wasm-simd', 'js'];

export function resolveKernel(name: KernelName | 'auto'): KernelName {
  if (name === 'auto') return KERNELS.find((k) => k !== 'wasm-simd' || wasmSimdSupported()) ?? 'js';
  if (!KERNELS.includes(name)) throw new RangeError(`unknown or unavailable kernel ${String(name)}`);
  return name;
}

export function createKernel(name: KernelName | 'auto'): NonceKernel {
  const k = resolveKernel(name);
  if (k === 'wasm-simd') return new WasmSimdKernel();
  if (k === 'js') return new JsKernel();
  return new NativeKernel(k);
}

const MAX_TARGET = (1n << 256n) - 1n;

/** The target as 32 little-endian bytes, the byte order in which a block hash is compared. */
export function targetToBytes(target: bigint): Uint8Array {
  if (target < 0n || target > MAX_TARGET) throw new RangeError('target must be within 0..2^256-1');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((target >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Top 32 bits of a little-endian 32-byte target: the word the kernels pre-filter on. */
export function targetTopWord(targetLE: Uint8Array): number {
  return ((targetLE[31] << 24) | (targetLE[30] << 16) | (targetLE[29] << 8) | targetLE[28]) >>> 0;
}

/** hash <= target, both 32 bytes little-endian (a hash in internal byte order is little-endian). */
export function hashMeetsTarget(hash: Uint8Array, targetLE: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) if (hash[i] !== targetLE[i]) return hash[i] < targetLE[i];
  return true;
}

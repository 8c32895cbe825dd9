// The native SHA-256d nonce kernel: the N-API addon built from native/ at install time
// (scripts/build-native.mjs, binding.gyp). Owns: loading the addon once per thread, the names of
// the paths this processor runs (native-avx512, native-sha-ni, native-avx2, native-scalar, best
// first) and driving a path through the NonceKernel interface. Does not own: choosing between
// native and WebAssembly (hasher.ts) or threads (miner.ts). A missing or unloadable addon is not
// an error here: nativeStatus() says why, and hasher.ts falls back. TALLY_NATIVE=0 disables it.
import { createRequire } from 'node:module';
import { headerMidstate, headerTailWords, type KernelName, type NonceKernel } from './sha256-kernel-js.js';

interface Addon {
  paths(): string[];
  scan(path: string, job: Uint32Array, start: number, count: number): number;
}

export type NativeKernelName = Extract<KernelName, `native-${string}`>;

// dist/src/mining/ -> the repository root, where node-gyp leaves build/Release.
const ADDON_PATH = new URL('../../../build/Release/tally_sha256d.node', import.meta.url);

let loaded: { addon: Addon | null; error: string | null } | undefined;

function load(): { addon: Addon | null; error: string | null } {
  if (loaded) return loaded;
  if (process.env.TALLY_NATIVE === '0') {
    loaded = { addon: null, error: 'disabled by TALLY_NATIVE=0' };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH.pathname) as Addon;
    loaded = { addon, error: null };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    loaded = { addon: null, error: `cannot load ${ADDON_PATH.pathname}: ${msg}` };
  }
  return loaded;
}

/** Why the native kernel is unavailable, or null when it loaded. */
export function nativeStatus(): string | null {
  return load().error;
}

/** The native paths this processor runs, fastest first (none when the addon is missing). */
export function nativeKernels(): NativeKernelName[] {
  const { addon } = load();
  if (!addon) return [];
  // The addon lists sha-ni first; on the processors measured (docs/mining.md) the 16-way AVX-512
  // path is about twice SHA-NI's speed, so it leads when present.
  const order = ['avx512', 'sha-ni', 'avx2', 'scalar'];
  const have = addon.paths();
  return order.filter((p) => have.includes(p)).map((p) => `native-${p}` as NativeKernelName);
}

export class NativeKernel implements NonceKernel {
  private readonly addon: Addon;
  private readonly path: string;
  private readonly job = new Uint32Array(12);

  constructor(readonly name: NativeKernelName) {
    const { addon, error } = load();
    if (!addon) throw new RangeError(`native kernel unavailable: ${error}`);
    this.addon = addon;
    this.path = name.slice('native-'.length);
    if (!addon.paths().includes(this.path)) throw new RangeError(`this processor lacks ${name}`);
  }

  setJob(header: Uint8Array, targetTop: number): void {
    this.job.set(headerMidstate(header), 0);
    this.job.set(headerTailWords(header), 8);
    this.job[11] = targetTop >>> 0;
  }

  scan(start: number, count: number): number {
    return this.addon.scan(this.path, this.job, start >>> 0, count);
  }
}

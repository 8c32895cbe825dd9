// Hash functions every other part uses: SHA-256, double SHA-256, RIPEMD-160 and HASH160.
// Owns: choosing the faster backend. Does not own: the mining midstate hasher.
// Never fails on any input.
//
// Backends, fastest first:
// - the native addon (native/hash/, built at install): OpenSSL's functions called directly, each
//   digest written into a new Uint8Array; loaded only if it gives the published digests below.
//   CPU per call on the 2-core dev machine: a double SHA-256 of 33-374 bytes 0.2-0.35 us, against
//   1.5-1.8 us for two node:crypto calls (docs/benchmarks.md);
// - node:crypto's one-shot hash() (OpenSSL too, but an algorithm look-up and a new Buffer per
//   call): 0.66 us per SHA-256 at 32 bytes against @noble/hashes' 0.91 us;
// - @noble/hashes, for RIPEMD-160 only, where a build of Node leaves that legacy algorithm out.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { constants } from 'node:os';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ripemd160 as nobleRipemd160 } from '@noble/hashes/legacy.js';

type Digest = (input: Uint8Array, out: Uint8Array) => void;
interface NativeHashes {
  sha256: Digest;
  sha256d: Digest;
  ripemd160: Digest;
  hash160: Digest;
}

// dist/src/crypto/ -> the repository root, where node-gyp leaves native/hash/build/Release.
const ADDON_PATH = new URL('../../../native/hash/build/Release/tally_hash.node', import.meta.url);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function loadNative(): { addon: NativeHashes | null; error: string | null } {
  if (process.env.TALLY_NATIVE === '0') return { addon: null, error: 'disabled by TALLY_NATIVE=0' };
  try {
    const mod = { exports: {} as NativeHashes };
    // Every symbol resolved now (OpenSSL's, from Node itself): a build of Node without them is
    // refused here, not at the first call.
    process.dlopen(mod, ADDON_PATH.pathname, constants.dlopen.RTLD_NOW);
    const a = mod.exports;
    const abc = new TextEncoder().encode('abc');
    const out = new Uint8Array(32);
    a.sha256d(abc, out);
    const d = hex(out);
    a.hash160(abc, out);
    const h = hex(out.subarray(0, 20));
    if (
      d !== '4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358' ||
      h !== 'bb1be98c142444d7a56aa3981c3942a978e4dc33'
    )
      return { addon: null, error: 'its digests differ from the published ones' };
    return { addon: a, error: null };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { addon: null, error: `cannot load ${ADDON_PATH.pathname}: ${msg}` };
  }
}

const native = loadNative();
const addon = native.addon;

/** Why the native hashes are not used (node:crypto is), or null when they are. */
export function nativeHashStatus(): string | null {
  return native.error;
}

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * Where the addon writes each digest, copied out into a new array after: a new 32-byte array would
 * live in V8's heap, and the addon, needing its address, would first have it moved out (an
 * allocation and a copy, a quarter of a call's cost); this buffer is outside the heap from the start.
 */
const digestOut = new Uint8Array(new ArrayBuffer(32));

/** The addon's `digest` of `data`, `size` bytes. */
function viaAddon(digest: Digest, data: Uint8Array, size: number): Uint8Array {
  digest(data, digestOut);
  return digestOut.slice(0, size);
}

export function sha256(data: Uint8Array): Uint8Array {
  if (!addon) return toU8(oneShotHash('sha256', data, 'buffer'));
  return viaAddon(addon.sha256, data, 32);
}

export function sha256d(data: Uint8Array): Uint8Array {
  if (!addon) return toU8(oneShotHash('sha256', oneShotHash('sha256', data, 'buffer'), 'buffer'));
  return viaAddon(addon.sha256d, data, 32);
}

/**
 * OpenSSL's RIPEMD-160 where this build of Node has it (it is a legacy algorithm in OpenSSL 3,
 * which some builds leave out): 33-byte HASH160 input, 0.9-1.5 us against noble's 1.7-2.7 us.
 */
const nodeRipemd160 = ((): boolean => {
  try {
    oneShotHash('ripemd160', new Uint8Array(0), 'buffer');
    return true;
  } catch {
    return false;
  }
})();

export function ripemd160(data: Uint8Array): Uint8Array {
  if (addon) return viaAddon(addon.ripemd160, data, 20);
  return nodeRipemd160 ? toU8(oneShotHash('ripemd160', data, 'buffer')) : nobleRipemd160(data);
}

export function hash160(data: Uint8Array): Uint8Array {
  if (!addon) return ripemd160(sha256(data));
  return viaAddon(addon.hash160, data, 20);
}

// Plain backends, exposed for benchmarks and the differential tests.
export const backends = {
  /** The native addon's SHA-256 (sha256 itself when the addon is loaded), or null. */
  nativeSha256: addon ? sha256 : null,
  nodeSha256: (d: Uint8Array): Uint8Array => toU8(createHash('sha256').update(d).digest()),
  nobleSha256: (d: Uint8Array): Uint8Array => nobleSha256(d),
  nobleRipemd160: (d: Uint8Array): Uint8Array => nobleRipemd160(d),
};

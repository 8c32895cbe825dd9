// Each nonce kernel against the plain sha256d of src/crypto/hash.ts: the kernels must flag exactly
// the nonces whose hash's top 32 bits are <= the target's, in order, across lane groups, partial
// groups and the wrap from nonce 0xffffffff to 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { TARGET_FILE, generateJsKernel } from '../../scripts/gen-sha256-kernel.js';
import { sha256d } from '../../src/crypto/hash.js';
import {
  KERNELS,
  createKernel,
  hashHeaderWithNonce,
  hashMeetsTarget,
  resolveKernel,
  targetToBytes,
  targetTopWord,
} from '../../src/mining/hasher.js';
import { wasmKernelBytes, wasmSimdSupported } from '../../src/mining/sha256-kernel-wasm.js';
import { headerMidstate } from '../../src/mining/sha256-kernel-js.js';
import { setHeaderNonce } from '../../src/mining/miner.js';

function refHash(header: Uint8Array, nonce: number): Uint8Array {
  return sha256d(setHeaderNonce(header, nonce));
}

function topWord(hash: Uint8Array): number {
  return ((hash[31] << 24) | (hash[30] << 16) | (hash[29] << 8) | hash[28]) >>> 0;
}

/** Every nonce of [start, start+count) (mod 2^32) the kernel flags, by rescanning after each hit. */
function kernelHits(
  name: (typeof KERNELS)[number],
  header: Uint8Array,
  top: number,
  start: number,
  count: number,
) {
  const k = createKernel(name);
  k.setJob(header, top);
  const hits: number[] = [];
  let pos = 0;
  while (pos < count) {
    const from = (start + pos) >>> 0;
    const hit = k.scan(from, count - pos);
    if (hit < 0) break;
    hits.push(hit);
    pos += ((hit - from) >>> 0) + 1;
  }
  return hits;
}

function refHits(header: Uint8Array, top: number, start: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = (start + i) >>> 0;
    if (topWord(refHash(header, n)) <= top) out.push(n);
  }
  return out;
}

const header = Uint8Array.from({ length: 80 }, (_, i) => (i * 131 + 7) & 0xff);

test('WebAssembly SIMD is available on this Node and auto picks it when no native path is', () => {
  assert.ok(wasmSimdSupported());
  assert.equal(resolveKernel('auto'), KERNELS.find((k) => k.startsWith('native-')) ?? 'wasm-simd');
  assert.deepEqual(wasmKernelBytes(), wasmKernelBytes());
});

test('the committed unrolled JS kernel is what scripts/gen-sha256-kernel.ts generates', async () => {
  assert.equal(readFileSync(TARGET_FILE, 'utf8'), await generateJsKernel());
});

test('the scalar double hash and midstate agree with sha256d', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 80, maxLength: 80 }), fc.nat({ max: 0xffffffff }), (h, nonce) => {
      assert.deepEqual(hashHeaderWithNonce(h, nonce), refHash(h, nonce));
    }),
    { numRuns: 200 },
  );
  assert.throws(() => headerMidstate(new Uint8Array(79)), RangeError);
});

for (const name of KERNELS) {
  test(`${name} kernel flags exactly the nonces sha256d puts under the top word`, () => {
    // 1/16 of nonces qualify: many hits, in every lane position.
    assert.deepEqual(kernelHits(name, header, 0x0fffffff, 1000, 700), refHits(header, 0x0fffffff, 1000, 700));
    // Across the wrap from 0xffffffff to 0, and a count that is not a multiple of four.
    const start = 0xffffffff - 200;
    assert.deepEqual(
      kernelHits(name, header, 0x3fffffff, start, 403),
      refHits(header, 0x3fffffff, start, 403),
    );
  });

  test(`${name} kernel: first hit equals the reference on random headers, starts, counts, targets`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 80, maxLength: 80 }),
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 1, max: 23 }),
        fc.nat({ max: 22 }),
        (h, start, count, pick) => {
          // The target's top word equals one in-range nonce's: the <= boundary is exercised.
          const top = topWord(refHash(h, (start + (pick % count)) >>> 0));
          const k = createKernel(name);
          k.setJob(h, top);
          assert.equal(k.scan(start, count), refHits(h, top, start, count)[0] ?? -1);
        },
      ),
      { numRuns: 60 },
    );
  });

  test(`${name} kernel: an impossible top word finds nothing and all-ones flags the first nonce`, () => {
    const k = createKernel(name);
    k.setJob(header, 0);
    assert.equal(k.scan(5, 4096), refHits(header, 0, 5, 4096)[0] ?? -1);
    k.setJob(header, 0xffffffff);
    assert.equal(k.scan(0xfffffffe, 3), 0xfffffffe);
    assert.equal(k.scan(7, 1), 7);
  });
}

test('target encoding and the full comparison', () => {
  const target = 0x7fffffn << 232n;
  const le = targetToBytes(target);
  assert.equal(targetTopWord(le), 0x7fffff00);
  const at = new Uint8Array(le);
  assert.ok(hashMeetsTarget(at, le));
  at[0] = le[0] + 1;
  assert.ok(!hashMeetsTarget(at, le));
  assert.throws(() => targetToBytes(-1n), RangeError);
  assert.throws(() => targetToBytes(1n << 256n), RangeError);
});

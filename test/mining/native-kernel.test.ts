// The native SHA-256d addon (native/, built by npm ci): it loads on this machine kind, 'auto'
// prefers it, each path the processor has agrees with crypto/hash.ts on random headers over
// thousands of nonces (all lanes of the 8- and 16-way paths, partial last groups), bad calls are
// errors, and without the addon Tally falls back to WebAssembly and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { sha256d } from '../../src/crypto/hash.js';
import { KERNELS, createKernel, nativeStatus, resolveKernel } from '../../src/mining/hasher.js';
import { setHeaderNonce } from '../../src/mining/miner.js';
import { NativeKernel, nativeKernels } from '../../src/mining/sha256-kernel-native.js';

const native = nativeKernels();

function top(header: Uint8Array, nonce: number): number {
  const h = sha256d(setHeaderNonce(header, nonce));
  return ((h[31] << 24) | (h[30] << 16) | (h[29] << 8) | h[28]) >>> 0;
}

test('the addon is built and loaded, and auto runs its fastest path', () => {
  // npm ci builds it on this machine kind; a silent build break would otherwise go unnoticed.
  assert.equal(nativeStatus(), null);
  assert.ok(native.includes('native-scalar'), native.join());
  assert.deepEqual(KERNELS.slice(0, native.length), native);
  assert.equal(resolveKernel('auto'), native[0]);
});

for (const name of native) {
  test(`${name}: every nonce it flags over 3000 random-header nonces is sha256d's, none missed`, () => {
    const k = createKernel(name);
    for (let trial = 0; trial < 3; trial++) {
      const header = new Uint8Array(randomBytes(80));
      const start = randomBytes(4).readUInt32LE(0);
      const count = 3000 + trial * 7; // not a multiple of 8 or 16: the last group is partial
      const limit = 0x02000000; // 1/128 of nonces
      const want: number[] = [];
      for (let i = 0; i < count; i++)
        if (top(header, (start + i) >>> 0) <= limit) want.push((start + i) >>> 0);
      k.setJob(header, limit);
      const got: number[] = [];
      let pos = 0;
      while (pos < count) {
        const from = (start + pos) >>> 0;
        const hit = k.scan(from, count - pos);
        if (hit < 0) break;
        got.push(hit);
        pos += ((hit - from) >>> 0) + 1;
      }
      assert.deepEqual(got, want, `header ${Buffer.from(header).toString('hex')} start ${start}`);
    }
  });

  test(`${name}: the first hit matches sha256d for random headers, starts, lane offsets`, () => {
    const k = createKernel(name);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 80, maxLength: 80 }),
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat({ max: 39 }),
        (header, start, count, pick) => {
          const limit = top(header, (start + (pick % count)) >>> 0);
          let want = -1;
          for (let i = 0; i < count && want < 0; i++)
            if (top(header, (start + i) >>> 0) <= limit) want = (start + i) >>> 0;
          k.setJob(header, limit);
          assert.equal(k.scan(start, count), want);
        },
      ),
      { numRuns: 40 },
    );
  });
}

test('native: a whole 2^32 range is accepted, and bad paths and jobs are errors', () => {
  const k = createKernel(native[0]);
  k.setJob(new Uint8Array(80), 0xffffffff);
  assert.equal(k.scan(0xfffffff0, 2 ** 32), 0xfffffff0);
  assert.throws(() => new NativeKernel('native-nonesuch' as never), RangeError);
  assert.throws(() => resolveKernel('native-nonesuch' as never), RangeError);
});

test('without the addon (TALLY_NATIVE=0) the miner falls back to WebAssembly and says why', () => {
  const script = `
    const h = await import('./dist/src/mining/hasher.js');
    console.log(JSON.stringify({ kernels: h.KERNELS, auto: h.resolveKernel('auto'), why: h.nativeStatus() }));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TALLY_NATIVE: '0' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { kernels: string[]; auto: string; why: string };
  assert.deepEqual(out.kernels, ['wasm-simd', 'js']);
  assert.equal(out.auto, 'wasm-simd');
  assert.match(out.why, /TALLY_NATIVE=0/);
});

test('a worker terminated inside an addon call ends quietly, never aborting the process', () => {
  // A miner's worker can be terminated (node stopping, pool resized) while it calls the addon.
  // N-API calls then fail with no exception to throw, and node-addon-api aborted the whole process
  // ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw", once in a fresh-clone run) unless
  // built with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS. Four workers call paths() in a loop and are
  // terminated at random moments for 3 seconds.
  const script = `
    import { Worker } from 'node:worker_threads';
    const src = 'const a = require(' + JSON.stringify(process.argv[1]) + ');' +
      'require("node:worker_threads").parentPort.postMessage(0); for (;;) a.paths();';
    const end = Date.now() + 3000;
    let n = 0;
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (Date.now() < end) {
        const w = new Worker(src, { eval: true, execArgv: [] });
        await new Promise((r) => w.once('message', r));
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        await w.terminate();
        n++;
      }
    }));
    console.log('terminated ' + n);`;
  const addon = new URL('../../../build/Release/tally_sha256d.node', import.meta.url).pathname;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script, addon], { encoding: 'utf8' });
  assert.equal(res.signal, null, res.stderr.split('\n').slice(0, 3).join('\n'));
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /terminated [1-9]/);
});

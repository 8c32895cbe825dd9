// The hash helpers hash natively (the native/hash addon, else node:crypto); the addon, node:crypto
// and @noble/hashes must give the same digest on every size, the helpers must match published
// values, the addon refuses bad calls, and without it (TALLY_NATIVE=0) node:crypto is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { backends, hash160, nativeHashStatus, ripemd160, sha256, sha256d } from '../../src/crypto/hash.js';
import { bytesToHex } from '../../src/primitives/bytes.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('published digests (FIPS 180-2 "abc", empty input, RIPEMD-160 "abc")', () => {
  assert.equal(
    bytesToHex(sha256(new Uint8Array())),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  assert.equal(
    bytesToHex(sha256(ascii('abc'))),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  const long = ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  assert.equal(bytesToHex(sha256(long)), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  assert.equal(bytesToHex(ripemd160(ascii('abc'))), '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc');
});

test('sha256d and hash160 compose the single hashes', () => {
  const d = ascii('hello');
  assert.equal(
    bytesToHex(sha256d(d)),
    '9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50', // Bitcoin wiki's example
  );
  assert.deepEqual(hash160(d), ripemd160(sha256(d)));
});

test('node:crypto and @noble/hashes agree (SHA-256, RIPEMD-160) on every size from 0 to 300 bytes', () => {
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
    const a = backends.nodeSha256(data);
    assert.deepEqual(a, backends.nobleSha256(data), `size ${n}`);
    assert.deepEqual(sha256(data), a, `size ${n}`);
    assert.deepEqual(ripemd160(data), backends.nobleRipemd160(data), `ripemd160 size ${n}`);
  }
});

test('random inputs and views into larger buffers hash the same on both backends', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (data, cut) => {
      const off = data.length === 0 ? 0 : cut % data.length;
      const view = data.subarray(off);
      assert.deepEqual(sha256(view), backends.nobleSha256(view.slice()));
      assert.deepEqual(sha256d(view), backends.nodeSha256(backends.nodeSha256(view)));
      assert.deepEqual(ripemd160(view), backends.nobleRipemd160(view.slice()));
      assert.deepEqual(hash160(view), backends.nobleRipemd160(backends.nobleSha256(view.slice())));
    }),
    { numRuns: 200 },
  );
});

test('the native hashes are built and loaded, and agree with node:crypto on every size', () => {
  // npm ci builds them on this machine kind; a silent build break would otherwise go unnoticed.
  assert.equal(nativeHashStatus(), null);
  const native = backends.nativeSha256!;
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.deepEqual(native(data), backends.nodeSha256(data), `size ${n}`);
  }
});

test('the native addon refuses a call that is not (Uint8Array, room for the digest)', () => {
  const addon = createRequire(import.meta.url)(
    '../../../native/hash/build/Release/tally_hash.node',
  ) as Record<string, (...a: unknown[]) => void>;
  const data = new Uint8Array(10);
  assert.throws(() => addon.sha256d(data, new Uint8Array(31)), TypeError);
  assert.throws(() => addon.hash160(data, new Uint8Array(19)), TypeError);
  assert.throws(() => addon.sha256('abc', new Uint8Array(32)), TypeError);
  assert.throws(() => addon.sha256(data, new Uint32Array(8)), TypeError);
  assert.throws(() => addon.sha256(data), TypeError);
  const out = new Uint8Array(40).fill(0xee);
  addon.ripemd160(data, out);
  assert.deepEqual(out.subarray(0, 20), backends.nobleRipemd160(data));
  assert.ok(
    out.subarray(20).every((b) => b === 0xee),
    'nothing written past the digest',
  );
});

test('without the addon (TALLY_NATIVE=0) hashing uses node:crypto, with the same digests, and says why', () => {
  const script = `
    const h = await import('./dist/src/crypto/hash.js');
    const hex = (b) => Buffer.from(b).toString('hex');
    const d = new TextEncoder().encode('hello');
    console.log(JSON.stringify({ why: h.nativeHashStatus(), d: hex(h.sha256d(d)), h: hex(h.hash160(d)) }));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TALLY_NATIVE: '0' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { why: string; d: string; h: string };
  assert.match(out.why, /TALLY_NATIVE=0/);
  const d = new TextEncoder().encode('hello');
  assert.equal(out.d, bytesToHex(sha256d(d)));
  assert.equal(out.h, bytesToHex(hash160(d)));
});

// The rolling Bloom filter behind recent rejects and per-peer known inventory: no false negative
// among the latest N/2 keys, old keys age out, false positives near the rate asked for, memory fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RollingBloom } from '../../src/p2p/rolling-bloom.js';

/** Key i: 32 bytes, i big-endian in the last four (as distinct as hashes, none random). */
const hex = (i: number): Uint8Array => {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(28, i);
  return b;
};

test('RollingBloom never forgets the latest N/2 keys (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 300 }),
      fc.integer(),
      (keys, tweak) => {
        const f = new RollingBloom(200, 0.001, tweak);
        for (const k of keys) f.add(k);
        const byHex = new Map(keys.map((k) => [Buffer.from(k).toString('hex'), k]));
        const distinct = [
          ...new Set(
            keys
              .slice()
              .reverse()
              .map((k) => Buffer.from(k).toString('hex')),
          ),
        ].slice(0, 100);
        for (const k of distinct) assert.ok(f.has(byHex.get(k) as Uint8Array), k);
      },
    ),
  );
});

test('RollingBloom ages out old keys, keeps its false-positive rate and its memory', () => {
  const f = new RollingBloom(120_000, 0.000001, 42);
  const bytes = f.memoryBytes;
  assert.ok(bytes < 1_000_000, `${bytes} bytes`);
  for (let i = 0; i < 120_000; i++) f.add(hex(i));
  for (let i = 60_000; i < 120_000; i++) assert.ok(f.has(hex(i)));
  let fp = 0;
  for (let i = 1_000_000; i < 1_100_000; i++) if (f.has(hex(i))) fp++;
  assert.ok(fp <= 5, `${fp} false positives in 100,000`);
  for (let i = 200_000; i < 400_000; i++) f.add(hex(i));
  let remembered = 0;
  for (let i = 0; i < 1_000; i++) if (f.has(hex(i))) remembered++;
  assert.equal(remembered, 0, 'keys 200,000 inserts old are forgotten');
  assert.equal(f.memoryBytes, bytes);
  f.reset();
  assert.equal(f.has(hex(399_999)), false);
});

test('RollingBloom: a key inside a larger buffer (an inv entry) is the same key as its own bytes', () => {
  const f = new RollingBloom(1_000, 0.000001, 7);
  const buf = new Uint8Array(100).map((_, i) => i);
  f.add(buf, 10, 32);
  assert.ok(f.has(buf.slice(10, 42)));
  assert.ok(!f.has(buf.slice(11, 43)));
  assert.ok(f.has(buf, 10, 32));
  // Unused, it holds nothing and answers no.
  assert.ok(!new RollingBloom(1_000).has(buf));
});

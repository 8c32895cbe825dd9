// MuHash3072 against Bitcoin Core's own unit test (src/test/crypto_tests.cpp, muhash_tests):
// FromInt(i) is the set holding the 32 bytes {i, 0, ...}. The digests are Core's; the 768-hex
// numerator of the serialization case is that test's ser_exp (Core's file stores it as one long
// line), and the overflow case is its ss_max (a numerator of 384 0xff bytes, denominator 1).
// Beside them: order independence, insert/remove cancelling, and the state round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MuHash3072, MUHASH_BYTES } from '../../src/crypto/muhash.js';
import { bytesToHex, reverseHex } from '../../src/primitives/bytes.js';

const fromInt = (i: number) => {
  const b = new Uint8Array(32);
  b[0] = i;
  return new MuHash3072().insert(b);
};

const CORE = {
  // FromInt(0) * FromInt(1) / FromInt(2), printed as uint256 (reversed).
  cancel: '10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863',
  // FromInt(1) * FromInt(2): its numerator, little-endian.
  serNumerator:
    '1fa093295ea30a6a3acdc7b3f770fa538eff537528e990e2910e40bbcfd7f6696b1256901929094694b56316de342f593303' +
    'dd12ac43e06dce1be1ff8301c845beb15468fff0ef002dbf80c29f26e6452bccc91b5cb9437ad410d2a67ea847887fa3c6' +
    'a6553309946880fe20db2c73fe0641adbd4e86edfee0d9f8cd0ee1230898873dc13ed8ddcaf045c80faa082774279007a2' +
    '253f8922ee3ef361d378a6af3ddaf180b190ac97e556888c36b3d1fb1c85aab9ccd46e3deaeb7b7cf5db067a7e9ff86b65' +
    '8cf3acd6662bbcce37232daa753c48b794356c020090c831a8304416e2aa7ad633c0ddb2f11be1be316a81be7f7e472071' +
    'c042cb68faef549c221ebff209273638b741aba5a81675c45a5fa92fea4ca821d7a324cb1e1a2ccd3b76c4228ec8066dad' +
    '2a5df6e1bd0de45c7dd5de8070bdb46db6c554cf9aefc9b7b2bbf9f75b1864d9f95005314593905c0109b71f703d49944a' +
    'e94477b51dac10a816bb6d1c700bafabc8bd86fac8df24be519a2f2836b16392e18036cb13e48c5c',
  // Finalize of the ss_max state, printed with HexStr (not reversed).
  overflow: '3a31e6903aff0de9f62f9a9f7f8b861de76ce2cda09822b90014319ae5dc2271',
};

test("muhash: Core's FromInt(0)*FromInt(1)/FromInt(2), by sets and by insert/remove", () => {
  const a = fromInt(0).combine(fromInt(1)).divide(fromInt(2));
  assert.equal(reverseHex(a.digest()), CORE.cancel);
  const b = fromInt(0);
  b.insert(Uint8Array.of(1, ...new Uint8Array(31)));
  b.remove(Uint8Array.of(2, ...new Uint8Array(31)));
  assert.equal(reverseHex(b.digest()), CORE.cancel);
});

test("muhash: Core's serialization of FromInt(1)*FromInt(2), and its round trip", () => {
  const m = fromInt(1).combine(fromInt(2));
  const den = new Uint8Array(MUHASH_BYTES);
  den[0] = 1;
  assert.equal(bytesToHex(m.serialize()), CORE.serNumerator + bytesToHex(den));
  assert.deepEqual(MuHash3072.deserialize(m.serialize()).digest(), m.digest());
});

test("muhash: Core's overflow case (a numerator above the prime)", () => {
  const state = new Uint8Array(MUHASH_BYTES * 2).fill(0xff, 0, MUHASH_BYTES);
  state[MUHASH_BYTES] = 1;
  assert.equal(bytesToHex(MuHash3072.deserialize(state).digest()), CORE.overflow);
  assert.throws(() => MuHash3072.deserialize(new Uint8Array(767)), /767 bytes/);
});

test('muhash: any order of inserts and removes gives one digest; insert then remove is the empty set', () => {
  const item = fc.uint8Array({ minLength: 0, maxLength: 40 });
  fc.assert(
    fc.property(fc.array(item, { maxLength: 6 }), fc.array(item, { maxLength: 3 }), (ins, outs) => {
      const a = new MuHash3072();
      for (const x of ins) a.insert(x);
      for (const x of outs) a.remove(x);
      const b = new MuHash3072();
      for (const x of [...outs].reverse()) b.remove(x);
      for (const x of [...ins].reverse()) b.insert(x);
      assert.deepEqual(a.digest(), b.digest());
      for (const x of outs) a.insert(x);
      for (const x of ins) a.remove(x);
      assert.deepEqual(a.digest(), new MuHash3072().digest());
    }),
    { numRuns: 25 },
  );
});

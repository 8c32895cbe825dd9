// Coin keys: the prefix, the txid in internal order and the output index big-endian, so that a
// transaction's outputs sort together and in index order, for every index a u32 can hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutPoint } from '../../src/primitives/tx.js';
import { coinKey } from '../../src/storage/records.js';

test('a coin key is prefix, txid and big-endian index, and keys order as (txid, index)', () => {
  const outpoint = fc.record({
    hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    index: fc.nat({ max: 0xffffffff }),
  });
  fc.assert(
    fc.property(outpoint, outpoint, (a, b) => {
      const ka = coinKey(new OutPoint(a.hash, a.index));
      const kb = coinKey(new OutPoint(b.hash, b.index));
      assert.equal(ka.length, 37);
      assert.deepEqual(ka.subarray(1, 33), a.hash);
      assert.equal(Buffer.from(ka).readUInt32BE(33), a.index);
      const byKey = Math.sign(Buffer.compare(ka, kb));
      const byOutpoint = Math.sign(Buffer.compare(a.hash, b.hash)) || Math.sign(a.index - b.index);
      assert.equal(byKey, byOutpoint);
    }),
  );
});

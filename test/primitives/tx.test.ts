// Legacy transaction encoding: round trip of random transactions, every truncation, trailing bytes,
// random and bit-flipped encodings give a DecodeError or a canonical re-encoding, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BufferReader,
  BufferWriter,
  DecodeError,
  concatBytes,
  equalBytes,
} from '../../src/primitives/bytes.js';
import { OutPoint, Tx } from '../../src/primitives/tx.js';
import {
  RUNS,
  decodesCanonicallyOrThrows,
  everyTruncationThrows,
  flipBit,
  hash32,
  tx,
  u32,
} from './arbitraries.js';

const encodeTx = (t: Tx): Uint8Array => t.encode();

test('Tx: random transactions round trip field for field and keep their txid', () => {
  fc.assert(
    fc.property(tx, (t) => {
      const d = Tx.decode(t.encode());
      assert.ok(equalBytes(d.encode(), t.encode()));
      assert.ok(equalBytes(d.txid(), t.txid()));
      assert.equal(d.size, t.encode().length);
      assert.deepEqual(
        [d.version, d.locktime, d.inputs.length, d.outputs.length],
        [t.version, t.locktime, t.inputs.length, t.outputs.length],
      );
      d.inputs.forEach((i, k) => {
        assert.ok(equalBytes(i.prevout.hash, t.inputs[k].prevout.hash));
        assert.deepEqual([i.prevout.index, i.sequence], [t.inputs[k].prevout.index, t.inputs[k].sequence]);
        assert.ok(equalBytes(i.scriptSig, t.inputs[k].scriptSig));
      });
      d.outputs.forEach((o, k) => {
        assert.equal(o.value, t.outputs[k].value);
        assert.ok(equalBytes(o.scriptPubKey, t.outputs[k].scriptPubKey));
      });
    }),
    { numRuns: RUNS },
  );
});

test('Tx: every truncation and any trailing byte is a DecodeError', () => {
  fc.assert(
    fc.property(tx, fc.uint8Array({ minLength: 1, maxLength: 4 }), (t, extra) => {
      everyTruncationThrows(t.encode(), Tx.decode);
      assert.throws(() => Tx.decode(concatBytes(t.encode(), extra)), DecodeError);
    }),
    { numRuns: 50 },
  );
});

test('Tx: random bytes and bit-flipped encodings decode canonically or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) =>
      decodesCanonicallyOrThrows(data, Tx.decode, encodeTx),
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(tx, fc.nat(), (t, bit) =>
      decodesCanonicallyOrThrows(flipBit(t.encode(), bit), Tx.decode, encodeTx),
    ),
    { numRuns: RUNS },
  );
});

test('Tx: a forged huge input count fails fast with DecodeError instead of allocating', () => {
  // version, then CompactSize 0xfe 0xffffffff inputs, then nothing.
  const forged = Uint8Array.of(1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff);
  assert.throws(() => Tx.decode(forged), /exceeds limit/);
});

test('OutPoint: round trip, every truncation a DecodeError, any 36 bytes an outpoint', () => {
  const readOutPoint = (d: Uint8Array): OutPoint => {
    const r = new BufferReader(d);
    const op = OutPoint.read(r);
    r.end('outpoint');
    return op;
  };
  const encodeOutPoint = (op: OutPoint): Uint8Array => {
    const w = new BufferWriter(36);
    op.write(w);
    return w.finish();
  };
  fc.assert(
    fc.property(hash32, u32, (h, i) => {
      const enc = encodeOutPoint(new OutPoint(h, i));
      const d = readOutPoint(enc);
      assert.ok(equalBytes(d.hash, h));
      assert.equal(d.index, i);
      everyTruncationThrows(enc, readOutPoint);
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (data) =>
      decodesCanonicallyOrThrows(data, readOutPoint, encodeOutPoint),
    ),
    { numRuns: RUNS },
  );
});

test("Tx.outpoint: output i's outpoint, made once, keyed as a fresh OutPoint of the txid; txidKey is the internal-order hex", () => {
  fc.assert(
    fc.property(tx, (t) => {
      assert.equal(t.txidKey(), Buffer.from(t.txid()).toString('hex'));
      for (let i = 0; i < t.outputs.length; i++) {
        const op = t.outpoint(i);
        assert.equal(op, t.outpoint(i));
        assert.ok(equalBytes(op.hash, t.txid()));
        assert.equal(op.index, i);
        assert.equal(op.key(), new OutPoint(t.txid(), i).key());
      }
    }),
    { numRuns: RUNS },
  );
});

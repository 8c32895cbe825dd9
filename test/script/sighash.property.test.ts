// The legacy signature hash built from per-transaction parts (signatureHash) against the plain
// field-by-field serialisation (signatureHashPlain), byte for byte: random transactions, hash
// types (every base type with and without ANYONECANPAY, and arbitrary 32-bit values), input
// indexes (out of range too) and scriptCodes (with OP_CODESEPARATORs, real and inside pushes).
// Each transaction is asked several times, so the cached parts are reused across inputs and types;
// transactions of 8 inputs and more take the parts path (fewer are serialised plainly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { OP } from '../../src/script/opcodes.js';
import { deleteSignature, findAndDelete, serializePush } from '../../src/script/script.js';
import { signatureHash, signatureHashPlain } from '../../src/script/sighash.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const script = fc
  .array(
    fc.oneof(
      fc.constant(Uint8Array.of(OP.OP_CODESEPARATOR)),
      fc.constant(Uint8Array.of(OP.OP_DUP, OP.OP_HASH160)),
      // A push holding 0xab: not a separator.
      fc.constant(Uint8Array.of(2, OP.OP_CODESEPARATOR, 1)),
      fc.uint8Array({ maxLength: 30 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])));

const input = fc.record({
  hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  index: u32,
  script,
  seq: u32,
});
const output = fc.record({ value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), script });
const tx = fc
  .record({
    version: u32,
    inputs: fc.array(input, { minLength: 1, maxLength: 14 }),
    outputs: fc.array(output, { maxLength: 8 }),
    locktime: u32,
  })
  .map(
    (t) =>
      new Tx(
        t.version,
        t.inputs.map((i) => new TxIn(new OutPoint(i.hash, i.index), i.script, i.seq)),
        t.outputs.map((o) => new TxOut(o.value, o.script)),
        t.locktime,
      ),
  );
const hashType = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 0x81, 0x82, 0x83, 0x84, 0x80),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);
const ask = fc.record({ index: fc.integer({ min: 0, max: 15 }), hashType, scriptCode: script });

function same(t: Tx, a: { index: number; hashType: number; scriptCode: Uint8Array }): void {
  const want = bytesToHex(signatureHashPlain(a.scriptCode, t, a.index, a.hashType));
  const got = bytesToHex(signatureHash(a.scriptCode, t, a.index, a.hashType));
  assert.equal(got, want, `input ${a.index} type ${a.hashType}`);
}

test('sighash from per-transaction parts equals the plain serialisation', () => {
  fc.assert(
    fc.property(tx, fc.array(ask, { minLength: 1, maxLength: 12 }), (t, asks) => {
      for (const a of asks) same(t, a);
    }),
    { numRuns: 400 },
  );
});

test('sighash parts: 300 inputs and outputs (3-byte counts), every input under every base type', () => {
  const hash = (k: number): Uint8Array => new Uint8Array(32).fill(k & 0xff);
  const t = new Tx(
    2,
    Array.from({ length: 300 }, (_, k) => new TxIn(new OutPoint(hash(k), k), Uint8Array.of(k & 0xff), k)),
    Array.from({ length: 300 }, (_, k) => new TxOut(BigInt(k), Uint8Array.of(OP.OP_1, k & 0xff))),
    7,
  );
  const code = Uint8Array.of(OP.OP_DUP, OP.OP_CODESEPARATOR, OP.OP_CHECKSIG);
  for (let index = 0; index < 301; index += 23)
    for (const hashType of [1, 2, 3, 0x81, 0x82, 0x83]) same(t, { index, hashType, scriptCode: code });
  same(t, { index: 299, hashType: 3, scriptCode: code });
});

test('deleteSignature is FindAndDelete of the pushed signature, skipped only when the push cannot fit', () => {
  const sig = fc.oneof(
    fc.uint8Array({ maxLength: 3 }),
    fc.uint8Array({ minLength: 70, maxLength: 80 }),
    fc.uint8Array({ minLength: 250, maxLength: 260 }),
  );
  fc.assert(
    fc.property(sig, script, fc.nat({ max: 3 }), (s, code, copies) => {
      // Scripts holding the push itself (the case FindAndDelete exists for) as well as random ones.
      const push = serializePush(s);
      const parts: number[] = [...code];
      for (let k = 0; k < copies; k++) parts.push(...push, ...code);
      const withPush = Uint8Array.from(parts);
      for (const c of [code, withPush]) {
        const want = findAndDelete(c, push);
        const got = deleteSignature(c, s);
        assert.equal(got.found, want.found);
        assert.equal(bytesToHex(got.script), bytesToHex(want.script));
      }
    }),
    { numRuns: 300 },
  );
});

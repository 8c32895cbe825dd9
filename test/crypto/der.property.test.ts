// Lax DER (Core's ecdsa_signature_parse_der_lax) as a decoder of untrusted signature bytes: strict
// encodings round trip, BER-style long lengths and zero padding decode to the same values, every
// truncation is refused (null), and random bytes give null or two values below the curve order,
// never an exception. The strict-DER and low-S checks never throw either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CURVE,
  encodeDer,
  isLowS,
  isValidSignatureEncoding,
  parseDerLax,
} from '../../src/crypto/secp256k1.js';

const scalar = fc.oneof(
  fc.bigInt({ min: 1n, max: CURVE.N - 1n }),
  fc.bigInt({ min: 1n, max: 0xffffn }),
  fc.constantFrom(1n, 0x7fn, 0x80n, CURVE.HALF_N, CURVE.HALF_N + 1n, CURVE.N - 1n),
);

/** The same integer as a BER-ish INTEGER: long-form length and `pad` leading zero bytes. */
function laxInt(v: bigint, pad: number): number[] {
  const strict = encodeDer(v, 1n).subarray(4, 4 + encodeDer(v, 1n)[3]);
  const body = [...new Array<number>(pad).fill(0), ...strict];
  return [0x02, 0x81, body.length, ...body];
}

test('DER: strict encodings of (r, s) round trip and pass BIP66 with a hashtype byte', () => {
  fc.assert(
    fc.property(scalar, scalar, fc.integer({ min: 0, max: 255 }), (r, s, hashtype) => {
      const der = encodeDer(r, s);
      assert.deepEqual(parseDerLax(der), [r, s]);
      assert.equal(isValidSignatureEncoding(Uint8Array.from([...der, hashtype])), true);
      assert.equal(isLowS(der), s <= CURVE.HALF_N);
    }),
    { numRuns: 300 },
  );
});

test('DER: long-form lengths and zero padding parse laxly to the same values, but are not BIP66', () => {
  fc.assert(
    fc.property(scalar, scalar, fc.nat({ max: 3 }), fc.nat({ max: 3 }), (r, s, pr, ps) => {
      const body = [...laxInt(r, pr), ...laxInt(s, ps)];
      const lax = Uint8Array.from([0x30, 0x81, body.length, ...body]);
      assert.deepEqual(parseDerLax(lax), [r, s]);
      assert.equal(isValidSignatureEncoding(Uint8Array.from([...lax, 1])), false);
    }),
    { numRuns: 200 },
  );
});

test('DER: every truncation of a strict or lax encoding is refused with null', () => {
  fc.assert(
    fc.property(scalar, scalar, fc.nat({ max: 2 }), (r, s, pad) => {
      const strict = encodeDer(r, s);
      const body = [...laxInt(r, pad), ...laxInt(s, pad)];
      const lax = Uint8Array.from([0x30, 0x81, body.length, ...body]);
      for (const der of [strict, lax]) {
        for (let k = 0; k < der.length; k++)
          assert.equal(parseDerLax(der.subarray(0, k)), null, `prefix ${k}`);
      }
    }),
    { numRuns: 100 },
  );
});

test('DER: random and bit-flipped bytes give null or values below the curve order, never an exception', () => {
  const check = (b: Uint8Array): void => {
    const rs = parseDerLax(b);
    if (rs !== null) for (const v of rs) assert.ok(v >= 0n && v < CURVE.N);
    assert.equal(typeof isValidSignatureEncoding(b), 'boolean');
    assert.equal(typeof isLowS(b), 'boolean');
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), check), { numRuns: 300 });
  // Random bytes rarely start 0x30 0x.. 0x02: also damage real encodings.
  fc.assert(
    fc.property(scalar, scalar, fc.nat(), fc.integer({ min: 0, max: 255 }), (r, s, at, byte) => {
      const der = encodeDer(r, s).slice();
      der[at % der.length] = byte;
      check(der);
    }),
    { numRuns: 300 },
  );
});

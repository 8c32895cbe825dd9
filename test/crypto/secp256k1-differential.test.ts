// Random keys and messages: libsecp256k1 and noble must agree on every verdict verifyDer gives,
// for honest signatures, their high-S twins, bit-flipped signatures and messages, other keys,
// hybrid key encodings, and plain garbage. verifyDer must never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CURVE,
  type EcdsaBackend,
  encodeDer,
  isLowS,
  isValidPrivateKey,
  isValidSignatureEncoding,
  nativeBackend,
  nobleBackend,
  parseDerLax,
  publicKeyFromPrivate,
  signDer,
  verifyDer,
} from '../../src/crypto/secp256k1.js';
import { concatBytes } from '../../src/primitives/bytes.js';
import { flipBit } from '../primitives/arbitraries.js';

const backends: EcdsaBackend[] = [nobleBackend, ...(nativeBackend ? [nativeBackend] : [])];

/** Runs verifyDer on every backend, asserts they agree, returns the common verdict. */
function agreed(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, what: string): boolean {
  const v = backends.map((b) => verifyDer(sig, msg, pub, b));
  assert.ok(
    v.every((x) => x === v[0]),
    `${what}: backends disagree (${backends.map((b, i) => `${b.name}=${v[i]}`).join(', ')})`,
  );
  return v[0];
}

function hybrid(uncompressed: Uint8Array, honest: boolean): Uint8Array {
  const out = uncompressed.slice();
  const odd = (out[64] & 1) === 1;
  out[0] = odd === honest ? 7 : 6;
  return out;
}

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(isValidPrivateKey);
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('the native backend is there (libsecp256k1 prebuild loads) so the differential is real', (t) => {
  if (!nativeBackend) t.diagnostic('libsecp256k1 binding did not load: only noble runs here');
  assert.ok(backends.length >= 1);
});

test('random keys/messages: honest, high-S, flipped and foreign-key signatures; backends agree', () => {
  fc.assert(
    fc.property(
      key,
      key,
      digest,
      fc.boolean(),
      fc.nat(),
      fc.nat(),
      (sk, other, msg, compressed, bitSig, bitMsg) => {
        const pub = publicKeyFromPrivate(sk, compressed);
        const sig = signDer(msg, sk);
        assert.ok(isValidSignatureEncoding(concatBytes(sig, Uint8Array.of(1))));
        assert.equal(isLowS(sig), true);
        assert.equal(agreed(sig, msg, pub, 'honest'), true);

        const [r, s] = parseDerLax(sig) ?? assert.fail('own signature must parse');
        const high = encodeDer(r, CURVE.N - s);
        assert.ok(isValidSignatureEncoding(concatBytes(high, Uint8Array.of(1))));
        assert.equal(isLowS(high), false);
        assert.equal(agreed(high, msg, pub, 'high-S'), true, 'high-S verifies after normalisation');

        agreed(flipBit(sig, bitSig), msg, pub, 'flipped signature bit');
        assert.equal(agreed(sig, flipBit(msg, bitMsg), pub, 'flipped message bit'), false);
        if (!other.every((x, i) => x === sk[i])) {
          assert.equal(agreed(sig, msg, publicKeyFromPrivate(other, compressed), 'other key'), false);
        }
        const full = publicKeyFromPrivate(sk, false);
        assert.equal(agreed(sig, msg, hybrid(full, true), 'hybrid key'), true);
        assert.equal(agreed(sig, msg, hybrid(full, false), 'hybrid key, wrong parity'), false);
      },
    ),
    { numRuns: 200 },
  );
});

test('garbage signatures, keys and digests: verifyDer never throws and backends agree', () => {
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const scalar = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
  const anyKey = fc.oneof(
    bytes(70),
    key.chain((sk) => fc.constantFrom(publicKeyFromPrivate(sk, true), publicKeyFromPrivate(sk, false))),
    // A random x: about half of them are on the curve.
    fc
      .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
      .map(([p, x]) => concatBytes(Uint8Array.of(p), x)),
  );
  const anySig = fc.oneof(
    bytes(80),
    fc.tuple(scalar, scalar).map(([r, s]) => encodeDer(r, s)),
  );
  fc.assert(
    fc.property(anySig, anyKey, fc.oneof(digest, bytes(40)), (sig, pub, msg) => {
      agreed(sig, msg, pub, 'garbage');
    }),
    { numRuns: 300 },
  );
});

test('libsecp256k1 itself rejects high S, which is why verifyDer normalises before calling it', () => {
  if (!nativeBackend) return;
  const sk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const msg = new Uint8Array(32).fill(7);
  const [r, s] = parseDerLax(signDer(msg, sk)) ?? assert.fail();
  const sig64 = new Uint8Array(64);
  const put = (v: bigint, at: number): void => {
    for (let i = 31; i >= 0; i--, v >>= 8n) sig64[at + i] = Number(v & 0xffn);
  };
  put(r, 0);
  put(CURVE.N - s, 32);
  assert.equal(nativeBackend.verify(sig64, msg, publicKeyFromPrivate(sk)), false);
  assert.equal(verifyDer(encodeDer(r, CURVE.N - s), msg, publicKeyFromPrivate(sk), nativeBackend), true);
});

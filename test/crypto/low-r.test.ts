// The wallet's signatures are Bitcoin Core's byte for byte: CKey::Sign grinds R below 2^255 by
// signing again with extra entropy (a counter from 1, little-endian in 32 bytes) through
// libsecp256k1's RFC 6979 nonce function. Checked against that loop run on the libsecp256k1 the
// node verifies with, for random keys and messages; every signature is low-R, low-S, at most 70
// bytes of DER, and verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import {
  encodeDer,
  isLowS,
  isValidPrivateKey,
  nobleBackend,
  publicKeyFromPrivate,
  signDer,
  signDerLowR,
  verifyDer,
} from '../../src/crypto/secp256k1.js';
import { bytesToHex } from '../../src/primitives/bytes.js';

interface NativeSigner {
  ecdsaSign(
    msg32: Uint8Array,
    seckey: Uint8Array,
    options?: { data?: Uint8Array },
  ): { signature: Uint8Array };
}

function loadNative(): NativeSigner | null {
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSigner;
  } catch {
    return null;
  }
}

const native = loadNative();

const big = (b: Uint8Array): bigint => BigInt('0x' + (bytesToHex(b) || '0'));

/** CKey::Sign(hash, sig, grind = true) on libsecp256k1. */
function coreSign(lib: NativeSigner, msg32: Uint8Array, sk: Uint8Array): Uint8Array {
  let sig = lib.ecdsaSign(msg32, sk).signature;
  const extra = new Uint8Array(32);
  for (let counter = 1; sig[0] >= 0x80; counter++) {
    new DataView(extra.buffer).setUint32(0, counter, true);
    sig = lib.ecdsaSign(msg32, sk, { data: extra }).signature;
  }
  return encodeDer(big(sig.subarray(0, 32)), big(sig.subarray(32)));
}

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(isValidPrivateKey);
const msg = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('signDerLowR is Core’s ground signature, byte for byte (libsecp256k1 runs the reference)', (t) => {
  if (!native) {
    t.skip('the libsecp256k1 addon is not built here');
    return;
  }
  let retried = 0;
  fc.assert(
    fc.property(key, msg, (sk, m) => {
      const ours = signDerLowR(m, sk);
      assert.equal(bytesToHex(ours), bytesToHex(coreSign(native, m, sk)));
      if (signDer(m, sk)[3] === 33) retried++; // R needed a 0x00 pad: 2^255 or more
    }),
    { numRuns: 300 },
  );
  // About half the plain RFC 6979 signatures have a high R: the grinding was exercised.
  t.diagnostic(`${retried} of 300 needed at least one retry`);
  assert.ok(retried > 50 && retried < 250, `${retried} of 300 retried`);
});

test('every ground signature is low-R and low-S, at most 70 bytes of DER, and verifies; a low-R RFC 6979 signature is kept as it is', () => {
  fc.assert(
    fc.property(key, msg, (sk, m) => {
      const sig = signDerLowR(m, sk);
      assert.ok(sig.length <= 70, `${sig.length} bytes`);
      assert.ok(sig[3] <= 32, 'R below 2^255 (no pad byte)');
      assert.ok(isLowS(sig));
      assert.ok(verifyDer(sig, m, publicKeyFromPrivate(sk), nobleBackend));
      const plain = signDer(m, sk);
      if (plain[3] <= 32) assert.deepEqual(sig, plain);
    }),
    { numRuns: 200 },
  );
});

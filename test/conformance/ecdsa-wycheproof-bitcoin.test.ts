// Wycheproof's EcdsaBitcoinVerify vectors (libsecp256k1's copy): ECDSA over SHA-256(msg) with
// Bitcoin's rules, strict DER (BIP66) and low S. Our Bitcoin verdict is
//   isValidSignatureEncoding(sig ++ SIGHASH_ALL) && isLowS(sig) && verifyDer(sig, sha256(msg), pub)
// and must equal `result === 'valid'`. 'acceptable' cases (none in this file version) may go
// either way, but every backend must still give the same answer. Each case is run on libsecp256k1
// and on noble, and the two must agree on verifyDer (a differential test of the backends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type EcdsaBackend,
  isLowS,
  isValidSignatureEncoding,
  nativeBackend,
  nobleBackend,
  verifyDer,
} from '../../src/crypto/secp256k1.js';
import { sha256 } from '../../src/crypto/hash.js';
import { concatBytes, hexToBytes } from '../../src/primitives/bytes.js';
import { readVectorJson } from '../vectors.js';

interface Wycheproof {
  numberOfTests: number;
  testGroups: {
    publicKey: { uncompressed: string };
    tests: { tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: string }[];
  }[];
}

const SIGHASH_ALL = Uint8Array.of(0x01);
const backends: EcdsaBackend[] = [nobleBackend, ...(nativeBackend ? [nativeBackend] : [])];

test('Wycheproof ecdsa_secp256k1_sha256_bitcoin: 463 cases, Bitcoin verdict on every backend', (t) => {
  const f = readVectorJson<Wycheproof>('secp256k1', 'ecdsa_secp256k1_sha256_bitcoin_test.json');
  const tally = { valid: 0, invalid: 0, acceptable: 0 };
  for (const group of f.testGroups) {
    const pub = hexToBytes(group.publicKey.uncompressed);
    for (const c of group.tests) {
      const sig = hexToBytes(c.sig);
      const digest = sha256(hexToBytes(c.msg));
      const strict = isValidSignatureEncoding(concatBytes(sig, SIGHASH_ALL)) && isLowS(sig);
      const verified = backends.map((b) => verifyDer(sig, digest, pub, b));
      assert.ok(
        verified.every((v) => v === verified[0]),
        `tc ${c.tcId} (${c.comment}): backends disagree: ${backends.map((b, i) => `${b.name}=${verified[i]}`).join(',')}`,
      );
      const verdict = strict && verified[0];
      if (c.result === 'acceptable') tally.acceptable++;
      else {
        assert.equal(verdict, c.result === 'valid', `tc ${c.tcId} (${c.comment}, ${c.flags.join(',')})`);
        tally[c.result as 'valid' | 'invalid']++;
      }
    }
  }
  assert.equal(tally.valid + tally.invalid + tally.acceptable, f.numberOfTests);
  assert.deepEqual(tally, { valid: 162, invalid: 301, acceptable: 0 });
  t.diagnostic(
    `passed ${tally.valid} valid + ${tally.invalid} invalid on backends ${backends.map((b) => b.name).join(' and ')}`,
  );
});

test('Wycheproof: high-S (SignatureMalleabilityBitcoin) cases verify after normalisation but fail low-S', () => {
  const f = readVectorJson<Wycheproof>('secp256k1', 'ecdsa_secp256k1_sha256_bitcoin_test.json');
  let n = 0;
  for (const group of f.testGroups) {
    const pub = hexToBytes(group.publicKey.uncompressed);
    for (const c of group.tests.filter((x) => x.flags.includes('SignatureMalleabilityBitcoin'))) {
      const sig = hexToBytes(c.sig);
      assert.equal(isLowS(sig), false, `tc ${c.tcId}`);
      for (const b of backends)
        assert.equal(verifyDer(sig, sha256(hexToBytes(c.msg)), pub, b), true, `tc ${c.tcId}`);
      n++;
    }
  }
  assert.ok(n > 0);
});

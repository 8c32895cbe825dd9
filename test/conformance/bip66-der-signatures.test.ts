// BIP66 strict DER (Bitcoin Core's IsValidSignatureEncoding) against Core's old sig_canonical.json /
// sig_noncanonical.json and bitcoinjs-lib's signature.json. Those files also reject undefined
// sighash types, which Core checks separately (IsDefinedHashtypeSignature under STRICTENC, owned by
// script/); the test applies that check itself and counts which rule rejected each case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDer, isValidSignatureEncoding, parseDerLax } from '../../src/crypto/secp256k1.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/primitives/bytes.js';
import { readVectorJson } from '../vectors.js';

function definedHashtype(sig: Uint8Array): boolean {
  const base = sig[sig.length - 1] & ~0x80;
  return base >= 1 && base <= 3;
}

const isHex = (s: string): boolean => /^([0-9a-fA-F]{2})+$/.test(s);

test('sig_canonical.json: all 5 pass strict DER', () => {
  const sigs = readVectorJson<string[]>('bitcoinjs-lib', 'core', 'sig_canonical.json');
  assert.equal(sigs.length, 5);
  for (const hex of sigs) {
    const sig = hexToBytes(hex);
    assert.ok(isValidSignatureEncoding(sig) && definedHashtype(sig), hex);
    assert.ok(parseDerLax(sig.subarray(0, -1)), hex);
  }
});

test('sig_noncanonical.json: all 15 rejected (14 by strict DER, 1 by its undefined hashtype)', () => {
  const entries = readVectorJson<string[]>('bitcoinjs-lib', 'core', 'sig_noncanonical.json');
  let label = '';
  const rejectedBy = { der: 0, hashtype: 0 };
  for (const e of entries) {
    if (!isHex(e)) {
      label = e;
      continue;
    }
    const sig = hexToBytes(e);
    if (!isValidSignatureEncoding(sig)) rejectedBy.der++;
    else {
      assert.equal(definedHashtype(sig), false, label);
      assert.equal(label, 'hashtype:');
      rejectedBy.hashtype++;
    }
  }
  assert.deepEqual(rejectedBy, { der: 14, hashtype: 1 });
});

interface SignatureJson {
  valid: { hashType: number; hex: string; raw: { r: string; s: string } }[];
  invalid: { exception: string; hex: string; hashType?: number }[];
}

test('signature.json: 7 valid encode and parse exactly; 17 invalid rejected', () => {
  const f = readVectorJson<SignatureJson>('bitcoinjs-lib', 'signature.json');
  assert.equal(f.valid.length, 7);
  for (const v of f.valid) {
    const sig = hexToBytes(v.hex);
    assert.ok(isValidSignatureEncoding(sig) && definedHashtype(sig), v.hex);
    const [r, s] = parseDerLax(sig.subarray(0, -1)) ?? assert.fail(v.hex);
    assert.deepEqual([r, s], [BigInt('0x' + v.raw.r), BigInt('0x' + v.raw.s)]);
    assert.equal(bytesToHex(concatBytes(encodeDer(r, s), Uint8Array.of(v.hashType))), v.hex);
  }
  assert.equal(f.invalid.length, 17);
  const rejectedBy = { der: 0, hashtype: 0 };
  for (const v of f.invalid) {
    const sig = hexToBytes(v.hex);
    if (v.hashType !== undefined) {
      assert.ok(isValidSignatureEncoding(sig), v.exception);
      assert.equal(definedHashtype(sig), false, v.exception);
      rejectedBy.hashtype++;
    } else {
      assert.equal(isValidSignatureEncoding(sig), false, v.exception);
      rejectedBy.der++;
    }
  }
  assert.deepEqual(rejectedBy, { der: 15, hashtype: 2 });
});

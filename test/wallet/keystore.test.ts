import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encryptSecret, decryptSecret, WrongPassphraseError } from '../../src/wallet/keystore.js';

const FAST = { N: 1 << 10, r: 8, p: 1 };

test('encryption round trip; wrong passphrase and tampering are WrongPassphraseError', async () => {
  const secret = new TextEncoder().encode('legal winner thank year');
  const enc = await encryptSecret(secret, 'correct horse', FAST);
  assert.equal(enc.kdf, 'scrypt');
  assert.equal(enc.ciphertext.length, secret.length * 2);
  assert.deepEqual(await decryptSecret(enc, 'correct horse'), secret);
  await assert.rejects(decryptSecret(enc, 'wrong horse'), WrongPassphraseError);
  const flipped = { ...enc, ciphertext: (enc.ciphertext[0] === '0' ? '1' : '0') + enc.ciphertext.slice(1) };
  await assert.rejects(decryptSecret(flipped, 'correct horse'), WrongPassphraseError);
  const other = await encryptSecret(secret, 'correct horse', FAST);
  assert.notEqual(other.salt, enc.salt);
  assert.notEqual(other.ciphertext, enc.ciphertext);
});

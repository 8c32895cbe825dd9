import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrateScrypt,
  encryptSecret,
  decryptSecret,
  MAX_SCRYPT_N,
  MIN_SCRYPT_N,
  WrongPassphraseError,
} from '../../src/wallet/keystore.js';

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

test('scrypt calibration: N scales with the machine to ~100 ms, within 2^14..2^17', async () => {
  // A probe at N = 2^13 taking 25 ms means ~100 ms at 2^15.
  assert.deepEqual(await calibrateScrypt(100, async () => 25), { N: 1 << 15, r: 8, p: 1 });
  assert.equal((await calibrateScrypt(100, async () => 12)).N, 1 << 16);
  // The faster of two probes counts: one slow moment does not weaken the key.
  let calls = 0;
  assert.equal((await calibrateScrypt(100, async () => (calls++ === 0 ? 400 : 25))).N, 1 << 15);
  assert.equal((await calibrateScrypt(100, async () => 1000)).N, MIN_SCRYPT_N, 'never below the floor');
  assert.equal((await calibrateScrypt(100, async () => 0)).N, MAX_SCRYPT_N, 'never above 128 MiB');
  // On this machine, for real.
  const { N } = await calibrateScrypt();
  assert.ok(N >= MIN_SCRYPT_N && N <= MAX_SCRYPT_N && Number.isInteger(Math.log2(N)));
});

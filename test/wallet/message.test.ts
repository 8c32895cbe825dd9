// Signed messages checked against an independent implementation (bitcoinjs-message with Tally's
// prefix): what Tally signs verifies there, what it signs verifies in Tally, for compressed and
// uncompressed keys; a wrong message, key or address is false; the decoder of the base64
// signature never throws anything but its typed errors (property test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import bitcoinMessage from 'bitcoinjs-message';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { publicKeyFromPrivate } from '../../src/crypto/secp256k1.js';
import { AddressError, encodeAddress } from '../../src/primitives/address.js';
import {
  MESSAGE_MAGIC,
  MessageError,
  messageHash,
  signMessage,
  verifyMessage,
} from '../../src/wallet/message.js';

const prefixes = getParams('regtest').prefixes;
/** bitcoinjs-message takes the prefix with its length byte, as it is hashed. */
const PREFIX = String.fromCharCode(MESSAGE_MAGIC.length) + MESSAGE_MAGIC;

function key(n: number): Uint8Array {
  const sk = new Uint8Array(32).fill(n);
  sk[0] = 0x11;
  return sk;
}
const addressOf = (sk: Uint8Array, compressed: boolean) =>
  encodeAddress('pubkeyhash', hash160(publicKeyFromPrivate(sk, compressed)), prefixes);

test('the digest is bitcoinjs-message magicHash with the prefix "\\x16Tally Signed Message:\\n"', () => {
  assert.equal(MESSAGE_MAGIC, 'Tally Signed Message:\n');
  for (const m of ['', 'hello', 'ünïcödé ✓', 'x'.repeat(300)])
    assert.deepEqual(Buffer.from(messageHash(m)), bitcoinMessage.magicHash(m, PREFIX));
});

test('signed by Tally, verified by bitcoinjs-message; signed there, verified by Tally', () => {
  for (const compressed of [true, false]) {
    const sk = key(compressed ? 7 : 9);
    const address = addressOf(sk, compressed);
    const ours = signMessage(sk, 'pay 1 coin to Bob', compressed);
    assert.equal(bitcoinMessage.verify('pay 1 coin to Bob', address, ours, PREFIX), true);
    assert.equal(bitcoinMessage.verify('pay 2 coins to Bob', address, ours, PREFIX), false);
    const theirs = bitcoinMessage
      .sign('from elsewhere', Buffer.from(sk), compressed, PREFIX)
      .toString('base64');
    // RFC 6979 on both sides: the very same signature.
    assert.equal(theirs, signMessage(sk, 'from elsewhere', compressed));
    assert.equal(verifyMessage(address, theirs, 'from elsewhere', prefixes), true);
    assert.equal(verifyMessage(address, theirs, 'from elsewhere!', prefixes), false);
    assert.equal(verifyMessage(addressOf(key(3), compressed), theirs, 'from elsewhere', prefixes), false);
    // The same key under the other compression flag is another address.
    assert.equal(verifyMessage(addressOf(sk, !compressed), theirs, 'from elsewhere', prefixes), false);
  }
});

test('a P2SH address is "Address does not refer to key", bad base64 "Malformed base64 encoding"', () => {
  const p2sh = encodeAddress('scripthash', new Uint8Array(20), prefixes);
  assert.throws(() => verifyMessage(p2sh, 'AAAA', 'm', prefixes), /Address does not refer to key/);
  assert.throws(
    () => verifyMessage(addressOf(key(1), true), 'not base64!', 'm', prefixes),
    /Malformed base64/,
  );
});

test('property: any signature text and message give a boolean or a typed error, never a crash', () => {
  const address = addressOf(key(5), true);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.base64String(),
        fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => Buffer.from(b).toString('base64')),
      ),
      fc.string(),
      (sig, msg) => {
        try {
          assert.equal(typeof verifyMessage(address, sig, msg, prefixes), 'boolean');
        } catch (e) {
          assert.ok(e instanceof MessageError || e instanceof AddressError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});

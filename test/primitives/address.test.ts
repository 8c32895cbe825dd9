// Addresses and WIF keys: round trip for random hashes, keys and version bytes; every truncation,
// random strings and single-character changes give AddressError, never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AddressError,
  type AddressPrefixes,
  addressToScript,
  base58CheckDecode,
  base58CheckEncode,
  base58Decode,
  base58Encode,
  decodeAddress,
  decodeWif,
  encodeAddress,
  encodeWif,
  scriptToAddress,
} from '../../src/primitives/address.js';
import { DecodeError, equalBytes } from '../../src/primitives/bytes.js';
import { isValidPrivateKey } from '../../src/crypto/secp256k1.js';
import { RUNS } from './arbitraries.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const byte = fc.integer({ min: 0, max: 255 });
const prefixes = fc
  .tuple(byte, byte, byte)
  .filter(([p, s]) => p !== s)
  .map(([pubkeyHash, scriptHash, wif]): AddressPrefixes => ({ pubkeyHash, scriptHash, wif }));
const hash20 = fc.uint8Array({ minLength: 20, maxLength: 20 });
const kind = fc.constantFrom('pubkeyhash' as const, 'scripthash' as const);
const privateKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(isValidPrivateKey);
const MAIN: AddressPrefixes = { pubkeyHash: 0, scriptHash: 5, wif: 128 };

/** Every strict prefix of `s`, and `s` with one character replaced, must throw AddressError. */
function everyCorruptionThrows(s: string, decode: (x: string) => unknown, pos: number, ch: string): void {
  for (let k = 0; k < s.length; k++) assert.throws(() => decode(s.slice(0, k)), AddressError, `prefix ${k}`);
  const i = pos % s.length;
  if (s[i] !== ch) assert.throws(() => decode(s.slice(0, i) + ch + s.slice(i + 1)), AddressError);
}

const alphabetChar = fc.constantFrom(...ALPHABET.split(''));

test('base58: random bytes round trip, leading zeros kept as leading 1s', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), (data) => {
      const s = base58Encode(data);
      assert.ok(equalBytes(base58Decode(s), data));
      const zeros = data.findIndex((b) => b !== 0);
      assert.equal(s.length - s.replace(/^1+/, '').length, zeros === -1 ? data.length : zeros);
      assert.ok(equalBytes(base58CheckDecode(base58CheckEncode(data)), data));
    }),
    { numRuns: RUNS },
  );
});

test('addresses: random hash, kind and version bytes round trip through string and script', () => {
  fc.assert(
    fc.property(kind, hash20, prefixes, fc.nat(), alphabetChar, (k, h, p, pos, ch) => {
      const s = encodeAddress(k, h, p);
      const d = decodeAddress(s, p);
      assert.equal(d.kind, k);
      assert.ok(equalBytes(d.hash, h));
      const script = addressToScript(s, p);
      assert.equal(script.length, k === 'pubkeyhash' ? 25 : 23);
      assert.equal(scriptToAddress(script, p), s);
      everyCorruptionThrows(s, (x) => decodeAddress(x, p), pos, ch);
      assert.throws(() => decodeWif(s, p), AddressError);
    }),
    { numRuns: RUNS },
  );
});

test('addresses: a version byte of another network is an AddressError naming the version', () => {
  fc.assert(
    fc.property(kind, hash20, prefixes, prefixes, (k, h, p, q) => {
      const s = encodeAddress(k, h, p);
      const v = k === 'pubkeyhash' ? p.pubkeyHash : p.scriptHash;
      if (v === q.pubkeyHash || v === q.scriptHash) return;
      assert.throws(() => decodeAddress(s, q), /version byte/);
    }),
    { numRuns: RUNS },
  );
});

test('WIF: random keys round trip with their compression flag; corruptions are AddressErrors', () => {
  fc.assert(
    fc.property(privateKey, fc.boolean(), prefixes, fc.nat(), alphabetChar, (sk, compressed, p, pos, ch) => {
      const s = encodeWif(sk, compressed, p);
      const d = decodeWif(s, p);
      assert.ok(equalBytes(d.privateKey, sk));
      assert.equal(d.compressed, compressed);
      everyCorruptionThrows(s, (x) => decodeWif(x, p), pos, ch);
      assert.throws(() => decodeAddress(s, p), AddressError);
    }),
    { numRuns: RUNS },
  );
});

test('WIF: zero and out-of-range keys, and a bad compression byte, are rejected', () => {
  const n = Uint8Array.from(
    Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'),
  );
  for (const bad of [new Uint8Array(32), n]) {
    assert.throws(() => encodeWif(bad, true, MAIN), AddressError);
    assert.throws(() => decodeWif(base58CheckEncode(Uint8Array.of(128, ...bad)), MAIN), /curve order/);
  }
  const key = new Uint8Array(32).fill(1);
  assert.throws(() => decodeWif(base58CheckEncode(Uint8Array.of(128, ...key, 2)), MAIN), /33 or 34/);
});

test('random strings and non-address scripts: AddressError or null, never another exception', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: alphabetChar, maxLength: 60 })),
      (s) => {
        for (const decode of [decodeAddress, decodeWif]) {
          try {
            decode(s, MAIN);
          } catch (e) {
            assert.ok(e instanceof AddressError && e instanceof DecodeError, String(e));
          }
        }
      },
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 30 }), (script) => {
      const a = scriptToAddress(script, MAIN);
      if (a !== null) assert.ok(equalBytes(addressToScript(a, MAIN), script));
    }),
    { numRuns: RUNS },
  );
});

test('encoders refuse bad inputs: 19-byte hash, unknown kind, version bytes outside 0..255', () => {
  assert.throws(() => encodeAddress('pubkeyhash', new Uint8Array(19), MAIN), /20 bytes/);
  assert.throws(() => encodeAddress('witness' as 'pubkeyhash', new Uint8Array(20), MAIN), /kind/);
  assert.throws(
    () => encodeAddress('scripthash', new Uint8Array(20), { ...MAIN, scriptHash: 256 }),
    /0\.\.255/,
  );
});

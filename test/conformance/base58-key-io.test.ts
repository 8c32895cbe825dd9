// Bitcoin Core's base58_encode_decode.json, key_io_valid.json and key_io_invalid.json, and the
// base58check entries of bitcoinjs-lib's address.json, decoded and re-encoded with Bitcoin's version
// bytes passed in as prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressError,
  type AddressPrefixes,
  addressToScript,
  base58Decode,
  base58Encode,
  decodeAddress,
  decodeWif,
  encodeAddress,
  encodeWif,
  scriptToAddress,
} from '../../src/primitives/address.js';
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { readVectorJson } from '../vectors.js';

const BITCOIN: Record<string, AddressPrefixes> = {
  main: { pubkeyHash: 0, scriptHash: 5, wif: 128 },
  testnet4: { pubkeyHash: 111, scriptHash: 196, wif: 239 },
  signet: { pubkeyHash: 111, scriptHash: 196, wif: 239 },
  regtest: { pubkeyHash: 111, scriptHash: 196, wif: 239 },
};

test('base58_encode_decode.json: all 21 pairs encode and decode', () => {
  const pairs = readVectorJson<[string, string][]>('bitcoin-core', 'base58_encode_decode.json');
  assert.equal(pairs.length, 21);
  for (const [hex, b58] of pairs) {
    const bytes = hexToBytes(hex);
    assert.equal(base58Encode(bytes), b58, hex);
    assert.equal(bytesToHex(base58Decode(b58)), hex.toLowerCase(), b58);
  }
});

test('base58 decode rejects characters outside the alphabet with AddressError', () => {
  for (const bad of ['0', 'O', 'I', 'l', '1 1', '3SEo3LWLoPntC!']) {
    assert.throws(() => base58Decode(bad), AddressError, bad);
  }
});

type KeyIoValid = [string, string, { chain: string; isPrivkey: boolean; isCompressed?: boolean }];

test('key_io_valid.json: the 38 base58check entries decode and re-encode; bech32 skipped', (t) => {
  const entries = readVectorJson<KeyIoValid[]>('bitcoin-core', 'key_io_valid.json');
  let addresses = 0;
  let keys = 0;
  let bech32 = 0;
  for (const [str, payloadHex, meta] of entries) {
    const prefixes = BITCOIN[meta.chain];
    assert.ok(prefixes, `unknown chain ${meta.chain}`);
    if (meta.isPrivkey) {
      const { privateKey, compressed } = decodeWif(str, prefixes);
      assert.equal(bytesToHex(privateKey), payloadHex, str);
      assert.equal(compressed, meta.isCompressed, str);
      assert.equal(encodeWif(privateKey, compressed, prefixes), str);
      assert.throws(() => decodeAddress(str, prefixes), AddressError);
      keys++;
      continue;
    }
    if (/^(bc|tb|bcrt)1/i.test(str)) {
      bech32++;
      continue;
    }
    const script = addressToScript(str, prefixes);
    assert.equal(bytesToHex(script), payloadHex, str);
    assert.equal(scriptToAddress(script, prefixes), str);
    const { kind, hash } = decodeAddress(str, prefixes);
    assert.equal(encodeAddress(kind, hash, prefixes), str);
    assert.throws(() => decodeWif(str, prefixes), AddressError);
    addresses++;
  }
  assert.equal(addresses, 22);
  assert.equal(keys, 16);
  assert.equal(bech32, 32);
  t.diagnostic(
    `passed ${addresses} addresses + ${keys} WIF keys; skipped ${bech32} bech32/bech32m (not supported)`,
  );
});

test('key_io_invalid.json: all 70 strings rejected as address and as key under every network', () => {
  const entries = readVectorJson<[string][]>('bitcoin-core', 'key_io_invalid.json');
  assert.equal(entries.length, 70);
  for (const [str] of entries) {
    for (const [chain, prefixes] of Object.entries(BITCOIN)) {
      assert.throws(() => decodeAddress(str, prefixes), AddressError, `${chain} address ${str}`);
      assert.throws(() => decodeWif(str, prefixes), AddressError, `${chain} key ${str}`);
    }
  }
});

interface JsAddress {
  standard: { network: string; version: number; hash?: string; base58check?: string; script: string }[];
  invalid: { fromBase58Check: { address: string; exception: string }[] };
}

test('bitcoinjs address.json: bitcoin base58check entries, foreign versions and bad lengths', () => {
  const f = readVectorJson<JsAddress>('bitcoinjs-lib', 'address.json');
  const networks: Record<string, AddressPrefixes> = { bitcoin: BITCOIN.main, testnet: BITCOIN.testnet4 };
  let checked = 0;
  for (const e of f.standard) {
    if (!e.base58check || !e.hash) continue;
    const prefixes = networks[e.network];
    if (!prefixes) {
      // Litecoin's version bytes are not Bitcoin's: the decoder must say so.
      assert.throws(() => decodeAddress(e.base58check!, BITCOIN.main), /version byte/);
      continue;
    }
    const { kind, hash } = decodeAddress(e.base58check, prefixes);
    assert.equal(kind === 'pubkeyhash' ? prefixes.pubkeyHash : prefixes.scriptHash, e.version);
    assert.equal(bytesToHex(hash), e.hash);
    assert.equal(encodeAddress(kind, hash, prefixes), e.base58check);
    checked++;
  }
  assert.equal(checked, 4);
  assert.equal(f.invalid.fromBase58Check.length, 2);
  for (const e of f.invalid.fromBase58Check) {
    assert.throws(() => decodeAddress(e.address, BITCOIN.main), /expected 21/);
  }
});

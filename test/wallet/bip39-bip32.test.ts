// BIP39 (mnemonic and seed) and BIP32 (derivation) test vectors from the BIPs themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HDKey } from '@scure/bip32';
import { hexToBytes, bytesToHex } from '../../src/primitives/bytes.js';
import {
  mnemonicFromEntropy,
  mnemonicToSeed,
  normalizeMnemonic,
  MnemonicError,
  newMnemonic,
  accountKey,
  derivePublic,
  RECEIVE,
  keyPath,
  TEST_COIN_TYPE,
} from '../../src/wallet/keys.js';

const BIP39 = [
  {
    entropy: '00000000000000000000000000000000',
    mnemonic: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    seed: 'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  },
  {
    entropy: '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f',
    mnemonic: 'legal winner thank year wave sausage worth useful legal winner thank yellow',
    seed: '2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607',
  },
];

test('BIP39 vectors: entropy -> mnemonic -> seed (passphrase TREZOR)', () => {
  for (const v of BIP39) {
    const m = mnemonicFromEntropy(hexToBytes(v.entropy));
    assert.equal(m, v.mnemonic);
    assert.equal(bytesToHex(mnemonicToSeed(m, 'TREZOR')), v.seed);
  }
});

test('mnemonic round trip, normalisation and rejection', () => {
  const m = newMnemonic();
  assert.equal(m.split(' ').length, 12);
  assert.equal(normalizeMnemonic(`  ${m.toUpperCase().replace(/ /g, '   ')} `), m);
  assert.throws(() => normalizeMnemonic(BIP39[0].mnemonic.replace(/about$/, 'abandon')), MnemonicError);
  assert.throws(() => normalizeMnemonic('not a real mnemonic at all'), MnemonicError);
});

test('BIP32 test vector 1: m, m/0H, m/0H/1', () => {
  const root = HDKey.fromMasterSeed(hexToBytes('000102030405060708090a0b0c0d0e0f'));
  assert.equal(
    root.publicExtendedKey,
    'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8',
  );
  assert.equal(
    root.derive("m/0'").privateExtendedKey,
    'xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7',
  );
  assert.equal(
    root.derive("m/0'/1").publicExtendedKey,
    'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
  );
});

test("wallet path m/44'/1'/0'/0/i: public derivation from the branch xpub matches private derivation", () => {
  const seed = mnemonicToSeed(BIP39[0].mnemonic);
  const account = accountKey(seed, TEST_COIN_TYPE);
  const branch = HDKey.fromExtendedKey(account.deriveChild(RECEIVE).publicExtendedKey);
  const viaPublic = derivePublic(branch, RECEIVE, 5);
  const viaPrivate = HDKey.fromMasterSeed(seed).derive(keyPath(TEST_COIN_TYPE, RECEIVE, 5));
  assert.deepEqual(viaPublic.publicKey, viaPrivate.publicKey);
  assert.equal(keyPath(TEST_COIN_TYPE, RECEIVE, 5), "m/44'/1'/0'/0/5");
});

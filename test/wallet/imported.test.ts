// Imported keys in the wallet file (issue 15): a version 1 file is read as the current version and written
// back so; encryptwallet seals a key imported in clear, lock forgets it and unlock opens it again;
// a damaged imported key fails with one WalletFileError naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { WALLET_FILE_VERSION, WalletFileError } from '../../src/wallet/store.js';
import { Wallet, WalletLockedError } from '../../src/wallet/wallet.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };
const FAST = { N: 1 << 10, r: 8, p: 1 };
const KEY = new Uint8Array(32).fill(7);

async function withWallet(fn: (path: string, opts: Parameters<typeof Wallet.load>[0]) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'tally-imported-'));
  const path = join(dir, 'w.json');
  try {
    await fn(path, { path, network: 'regtest', prefixes: PREFIXES, coinbaseMaturity: 100 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a version 1 wallet file is read with no imports and written back as the current version', async () => {
  await withWallet(async (path, opts) => {
    const { wallet } = await Wallet.create(opts);
    const address = wallet.getNewAddress('a');
    const v1 = JSON.parse(readFileSync(path, 'utf8'));
    v1.version = 1;
    delete v1.imported;
    delete v1.flags;
    writeFileSync(path, JSON.stringify(v1));
    const loaded = Wallet.load(opts);
    assert.equal(loaded.labelOf(address), 'a');
    assert.equal(loaded.hasWatchOnly, false);
    loaded.save();
    const v2 = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(v2.version, WALLET_FILE_VERSION);
    assert.deepEqual(v2.imported, { keys: [], scripts: [] });
  });
});

test('encryptwallet seals an imported key; lock forgets it, unlock opens it', async () => {
  await withWallet(async (path, opts) => {
    const { wallet } = await Wallet.create(opts);
    const { address } = wallet.importPrivateKey(KEY, true, 'mine');
    assert.ok(readFileSync(path, 'utf8').includes(bytesToHex(KEY)));
    await wallet.encrypt('pw', FAST);
    assert.ok(!readFileSync(path, 'utf8').includes(bytesToHex(KEY)));
    // Not an HD address: addressInfo (HD only) knows nothing of it.
    assert.equal(wallet.addressInfo(address), null);
    const info = wallet.importedKeys.keys[0];
    const pubkey = Uint8Array.from(Buffer.from(info.pubkey, 'hex'));
    assert.throws(() => wallet.withKeyOfPubkey(pubkey, () => 1), WalletLockedError);
    assert.throws(() => wallet.importPrivateKey(new Uint8Array(32).fill(8), true), WalletLockedError);
    await wallet.unlock('pw', 60);
    assert.deepEqual(
      wallet.withKeyOfPubkey(pubkey, (sk) => bytesToHex(sk)),
      bytesToHex(KEY),
    );
    wallet.lock();
    const reloaded = Wallet.load(opts);
    await reloaded.unlock('pw', 60);
    assert.equal(
      reloaded.withKeyOfPubkey(pubkey, (sk) => bytesToHex(sk)),
      bytesToHex(KEY),
    );
    reloaded.lock();
  });
});

test('a damaged imported key fails with one WalletFileError naming the field', async () => {
  await withWallet(async (path, opts) => {
    const { wallet } = await Wallet.create(opts);
    wallet.importPrivateKey(KEY, true);
    const f = JSON.parse(readFileSync(path, 'utf8'));
    f.imported.keys[0].pubkey = '02' + '00'.repeat(32);
    writeFileSync(path, JSON.stringify(f));
    assert.throws(
      () => Wallet.load(opts),
      (e: Error) => {
        assert.ok(e instanceof WalletFileError);
        assert.match(e.message, /imported\.keys\.0\.pubkey: not a point on the curve/);
        return true;
      },
    );
  });
});

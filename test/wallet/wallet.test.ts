import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, WalletLockedError, WalletError } from '../../src/wallet/wallet.js';
import { WrongPassphraseError } from '../../src/wallet/keystore.js';
import { addressToScript, scriptToAddress, AddressError } from '../../src/primitives/address.js';
import { fundTransaction, createTransaction } from '../../src/wallet/fund.js';
import { verifyInput } from '../../src/script/interpreter.js';
import { STANDARD_SCRIPT_FLAGS } from '../../src/script/flags.js';
import { feeFor } from '../../src/wallet/coinselect.js';
import { InsufficientFundsError } from '../../src/wallet/coinselect.js';
import { Tx } from '../../src/primitives/tx.js';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { hash160 } from '../../src/crypto/hash.js';
import { getParams } from '../../src/consensus/params.js';
import { ChainFixture, coinbase, spend, COIN, OTHER_SCRIPT } from './chain-fixture.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };
const FAST = { N: 1 << 10, r: 8, p: 1 };
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

function tempWallet(name = 'w') {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wallet-'));
  return {
    dir,
    path: join(dir, 'wallets', `${name}.json`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
const base = (path: string, maturity = 100) => ({
  path,
  network: 'regtest',
  prefixes: PREFIXES,
  coinbaseMaturity: maturity,
});
const scriptOf = (address: string) => addressToScript(address, PREFIXES);

test('encrypted wallet: locked after load, unlock with the passphrase, wrong one refused, lock wipes keys', async () => {
  const t = tempWallet();
  try {
    const { wallet, mnemonic } = await Wallet.create({
      ...base(t.path),
      passphrase: 'hunter2',
      mnemonic: MNEMONIC,
      scrypt: FAST,
    });
    assert.equal(mnemonic, MNEMONIC);
    assert.equal(statSync(t.path).mode & 0o777, 0o600);
    const text = readFileSync(t.path, 'utf8');
    assert.ok(!text.includes('abandon'), 'mnemonic must not be stored in clear');
    assert.ok(wallet.isEncrypted && wallet.isLocked);
    // Addresses come from the xpubs: no passphrase needed.
    const a = wallet.getNewAddress('savings');
    assert.match(a, /^[mn]/);
    assert.equal(wallet.addressInfo(a)?.path, "m/44'/1'/0'/0/0");
    await assert.rejects(wallet.unlock('wrong', 60), WrongPassphraseError);
    assert.ok(wallet.isLocked);
    await wallet.unlock('hunter2', 60);
    assert.ok(!wallet.isLocked);
    assert.ok(wallet.unlockedUntil > Date.now() / 1000);
    const keys = wallet.privateKeysForTest()!;
    assert.ok(keys.every((k) => k.privateKey !== null));
    wallet.lock();
    assert.ok(wallet.isLocked);
    assert.ok(
      keys.every((k) => k.privateKey === null),
      'private keys are wiped on lock',
    );
    assert.throws(() => wallet.withPrivateKey(0, 0, () => 0), WalletLockedError);

    const loaded = Wallet.load(base(t.path));
    assert.ok(loaded.isLocked);
    assert.equal(loaded.addressInfo(loaded.getNewAddress())?.path, "m/44'/1'/0'/0/1");
  } finally {
    t.cleanup();
  }
});

test('unlock expires after its timeout', async () => {
  const t = tempWallet();
  try {
    const { wallet } = await Wallet.create({ ...base(t.path), passphrase: 'p', scrypt: FAST });
    await wallet.unlock('p', 0.05);
    assert.ok(!wallet.isLocked);
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(wallet.isLocked);
    await assert.rejects(wallet.unlock('p', 0), WalletError);
  } finally {
    t.cleanup();
  }
});

test('same mnemonic, same addresses; different network is refused', async () => {
  const t1 = tempWallet();
  const t2 = tempWallet();
  try {
    const { wallet: w1 } = await Wallet.create({ ...base(t1.path), mnemonic: MNEMONIC });
    const { wallet: w2 } = await Wallet.create({
      ...base(t2.path),
      mnemonic: MNEMONIC,
      passphrase: 'x',
      scrypt: FAST,
    });
    assert.equal(w1.getNewAddress(), w2.getNewAddress());
    assert.throws(() => Wallet.load({ ...base(t1.path), network: 'main' }), /belongs to network regtest/);
  } finally {
    t1.cleanup();
    t2.cleanup();
  }
});

test('balances through connect, maturity, mempool, reorg (disconnect) and rescan', async () => {
  const t = tempWallet();
  try {
    const { wallet } = await Wallet.create({ ...base(t.path, 100), mnemonic: MNEMONIC });
    const mine = scriptOf(wallet.getNewAddress());
    const chain = new ChainFixture();
    const cb0 = coinbase(0, mine);
    const b0 = chain.next([cb0]);
    wallet.onBlockConnected(b0, chain.push(b0));
    assert.deepEqual(wallet.getBalances(), { trusted: 0n, untrustedPending: 0n, immature: 50n * COIN });
    for (let h = 1; h <= 99; h++) {
      const b = chain.next([coinbase(h, OTHER_SCRIPT)]);
      wallet.onBlockConnected(b, chain.push(b));
    }
    // 100 confirmations: still immature (Core needs COINBASE_MATURITY + 1).
    assert.equal(wallet.getBalances().immature, 50n * COIN);
    const b100 = chain.next([coinbase(100, OTHER_SCRIPT)]);
    wallet.onBlockConnected(b100, chain.push(b100));
    assert.deepEqual(wallet.getBalances(), { trusted: 50n * COIN, untrustedPending: 0n, immature: 0n });
    assert.equal(wallet.listTransactions(10)[0].category, 'generate');

    // Someone pays a second address; unconfirmed and not from us: untrusted pending.
    const payer = coinbase(1000, OTHER_SCRIPT);
    const addr2 = wallet.getNewAddress();
    const incoming = spend(payer, 0, [
      [3n * COIN, scriptOf(addr2)],
      [1n * COIN, OTHER_SCRIPT],
    ]);
    wallet.onTxAccepted(incoming);
    assert.deepEqual(wallet.getBalances(), {
      trusted: 50n * COIN,
      untrustedPending: 3n * COIN,
      immature: 0n,
    });
    const b101 = chain.next([coinbase(101, OTHER_SCRIPT), incoming]);
    wallet.onBlockConnected(b101, chain.push(b101));
    assert.deepEqual(wallet.getBalances(), { trusted: 53n * COIN, untrustedPending: 0n, immature: 0n });
    assert.equal(wallet.getTransaction(incoming.txidHex())?.confirmations, 1);

    // Reorg: disconnect 101 and 100. The payment goes back to pending, the coinbase to immature.
    wallet.onBlockDisconnected(chain.pop(), 101);
    assert.deepEqual(wallet.getBalances(), {
      trusted: 0n + 50n * COIN,
      untrustedPending: 3n * COIN,
      immature: 0n,
    });
    wallet.onBlockDisconnected(chain.pop(), 100);
    assert.deepEqual(wallet.getBalances(), {
      trusted: 0n,
      untrustedPending: 3n * COIN,
      immature: 50n * COIN,
    });
    assert.equal(wallet.tip?.height, 99);
    // Disconnecting our own coinbase removes it for good.
    const saved = chain.blocks.slice();
    for (let h = 99; h >= 0; h--) wallet.onBlockDisconnected(chain.pop(), h);
    assert.deepEqual(wallet.getBalances(), { trusted: 0n, untrustedPending: 3n * COIN, immature: 0n });

    // State survives a reload; a rescan of the old chain brings the coinbase back.
    const reloaded = Wallet.load(base(t.path, 100));
    assert.equal(reloaded.getBalances().untrustedPending, 3n * COIN);
    const n = await reloaded.rescan(saved.map((block, height) => ({ block, height })));
    assert.equal(n, 100);
    assert.deepEqual(reloaded.getBalances(), {
      trusted: 0n,
      untrustedPending: 3n * COIN,
      immature: 50n * COIN,
    });
  } finally {
    t.cleanup();
  }
});

test('lookahead finds payments to addresses never handed out, within the gap', async () => {
  const t = tempWallet();
  try {
    const { wallet: w } = await Wallet.create({ ...base(t.path, 1), mnemonic: MNEMONIC });
    const other = tempWallet();
    const { wallet: twin } = await Wallet.create({ ...base(other.path, 1), mnemonic: MNEMONIC });
    const addrs = Array.from({ length: 40 }, () => twin.getNewAddress());
    const chain = new ChainFixture();
    // index 15 is in the first window; paying it moves the window so index 34 is seen next.
    for (const i of [15, 34]) {
      const b = chain.next([coinbase(chain.blocks.length, scriptOf(addrs[i]))]);
      w.onBlockConnected(b, chain.push(b));
    }
    assert.equal(w.listTransactions(10).length, 2);
    other.cleanup();
  } finally {
    t.cleanup();
  }
});

test('funding: spends trusted coins, change to a fresh change address, errors are typed', async () => {
  const t = tempWallet();
  try {
    const { wallet } = await Wallet.create({ ...base(t.path, 0), mnemonic: MNEMONIC });
    const chain = new ChainFixture();
    for (const v of [2n * COIN, 5n * COIN]) {
      const b = chain.next([coinbase(chain.blocks.length, scriptOf(wallet.getNewAddress()), v)]);
      wallet.onBlockConnected(b, chain.push(b));
    }
    const dest = 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn';
    const f = fundTransaction(wallet, [{ address: dest, value: 4n * COIN }], 2000n);
    assert.equal(f.tx.inputs.length, 1);
    assert.equal(f.coins[0].value, 5n * COIN);
    assert.equal(f.tx.outputs.length, 2);
    const change = f.tx.outputs[f.changeIndex];
    assert.equal(wallet.addressInfo(scriptToAddress(change.scriptPubKey, PREFIXES)!)?.change, true);
    assert.equal(change.value, 5n * COIN - 4n * COIN - f.fee);
    assert.equal(f.tx.locktime, 1);
    assert.throws(
      () => fundTransaction(wallet, [{ address: dest, value: 8n * COIN }], 1000n),
      InsufficientFundsError,
    );
    assert.throws(
      () => fundTransaction(wallet, [{ address: 'notanaddress', value: COIN }], 1000n),
      AddressError,
    );
    assert.throws(() => fundTransaction(wallet, [{ address: dest, value: 100n }], 1000n), /amount too small/);
  } finally {
    t.cleanup();
  }
});

test('wallet file is replaced atomically and a backup is a loadable copy', async () => {
  const t = tempWallet();
  try {
    const { wallet } = await Wallet.create({ ...base(t.path), mnemonic: MNEMONIC });
    wallet.getNewAddress('x');
    const dest = join(t.dir, 'backup.json');
    wallet.backup(dest);
    assert.ok(existsSync(dest));
    const copy = Wallet.load({ ...base(dest) });
    assert.equal(copy.addressInfo(wallet.getNewAddress()) !== null, true);
  } finally {
    t.cleanup();
  }
});

test('createTransaction signs P2PKH inputs that the script interpreter accepts; locked wallets refuse', async () => {
  const t = tempWallet();
  try {
    const { wallet } = await Wallet.create({
      ...base(t.path, 0),
      mnemonic: MNEMONIC,
      passphrase: 'pw',
      scrypt: FAST,
    });
    const chain = new ChainFixture();
    const funding: Tx[] = [];
    for (const v of [COIN, 2n * COIN, 3n * COIN]) {
      const cb = coinbase(chain.blocks.length, scriptOf(wallet.getNewAddress()), v);
      funding.push(cb);
      const b = chain.next([cb]);
      wallet.onBlockConnected(b, chain.push(b));
    }
    const dest = 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn';
    assert.throws(
      () => createTransaction(wallet, [{ address: dest, value: 4n * COIN }], 1000n),
      WalletLockedError,
    );
    await wallet.unlock('pw', 60);
    const { tx, fee, coins } = createTransaction(wallet, [{ address: dest, value: 4n * COIN }], 1000n);
    assert.ok(coins.length >= 2);
    tx.inputs.forEach((input, i) => {
      const prev = funding.find((f) => f.txidHex() === input.prevout.txidHex())!;
      verifyInput(tx, i, prev.outputs[input.prevout.index], STANDARD_SCRIPT_FLAGS);
    });
    assert.ok(fee >= feeFor(tx.size, 1000n));
    const before = wallet.getBalances().trusted;
    wallet.commitTransaction(tx);
    // Our own unconfirmed change is trusted; the payment and fee are gone.
    assert.equal(wallet.getBalances().trusted, before - 4n * COIN - fee);
    const sends = wallet.listTransactions(10).filter((e) => e.category === 'send');
    assert.equal(sends.length, 1);
    assert.equal(sends[0].amount, -4n * COIN);
    assert.equal(sends[0].fee, -fee);
  } finally {
    t.cleanup();
  }
});

test("main-network wallets use Tally's coin type: m/44'/5521740'/0'/<0|1>/i, as an independent BIP32 derivation gives", async () => {
  const t = tempWallet();
  const main = getParams('main').prefixes;
  try {
    const { wallet } = await Wallet.create({
      path: t.path,
      network: 'main',
      prefixes: main,
      coinbaseMaturity: 100,
      mnemonic: MNEMONIC,
    });
    const root = HDKey.fromMasterSeed(mnemonicToSeedSync(MNEMONIC));
    const expect = (path: string) => {
      const h = hash160(root.derive(path).publicKey!);
      return scriptToAddress(Uint8Array.of(0x76, 0xa9, 0x14, ...h, 0x88, 0xac), main);
    };
    const receive = [wallet.getNewAddress(), wallet.getNewAddress()];
    assert.deepEqual(receive, [expect("m/44'/5521740'/0'/0/0"), expect("m/44'/5521740'/0'/0/1")]);
    assert.equal(wallet.addressInfo(receive[1])?.path, "m/44'/5521740'/0'/0/1");
    const change = wallet.getChangeAddress();
    const info = wallet.addressInfo(change)!;
    assert.match(info.path, /^m\/44'\/5521740'\/0'\/1\/\d+$/);
    assert.equal(info.change, true);
    assert.equal(change, expect(info.path));
    assert.equal(JSON.parse(readFileSync(t.path, 'utf8')).coinType, 0x54414c);
  } finally {
    t.cleanup();
  }
});

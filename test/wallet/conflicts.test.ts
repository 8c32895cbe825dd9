// Every spender of an outpoint is kept (Core's mapTxSpends): a double-spend confirmed by a block
// makes our unconfirmed transaction conflicted (negative confirmations, its coins back) until that
// block is disconnected; abandontransaction frees the inputs of one the pool does not hold;
// rewind forgets blocks reorganised away while the wallet was unloaded; pendingTransactions lists
// what the node resubmits, parents first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, WalletError } from '../../src/wallet/wallet.js';
import { addressToScript } from '../../src/primitives/address.js';
import { ChainFixture, coinbase, spend, COIN, OTHER_SCRIPT } from './chain-fixture.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

async function setup(inMempool?: (txid: string) => boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wconf-'));
  const opts = {
    path: join(dir, 'wallets', 'w.json'),
    network: 'regtest',
    prefixes: PREFIXES,
    coinbaseMaturity: 1,
    inMempool,
  };
  const { wallet } = await Wallet.create({ ...opts, mnemonic: MNEMONIC });
  const mine = addressToScript(wallet.getNewAddress(), PREFIXES);
  const change = addressToScript(wallet.getChangeAddress(), PREFIXES);
  const chain = new ChainFixture();
  const connect = (txs: Parameters<ChainFixture['next']>[0], salt = 0) => {
    const b = chain.next(txs, salt);
    wallet.onBlockConnected(b, chain.push(b));
    return b;
  };
  // A mature 50-coin coinbase of ours.
  const cb = coinbase(0, mine);
  connect([cb]);
  connect([coinbase(1, OTHER_SCRIPT)]);
  connect([coinbase(2, OTHER_SCRIPT)]);
  return { wallet, opts, chain, connect, cb, mine, change, cleanup: () => rmSync(dir, { recursive: true }) };
}

test('a confirmed double-spend conflicts our unconfirmed send and its child; disconnecting it undoes that', async () => {
  const s = await setup();
  try {
    const { wallet, chain, connect, cb, change } = s;
    const send = spend(cb, 0, [
      [10n * COIN, OTHER_SCRIPT],
      [39n * COIN, change],
    ]);
    const child = spend(send, 1, [[38n * COIN, change]]);
    wallet.onTxAccepted(send);
    wallet.onTxAccepted(child);
    assert.equal(wallet.getBalances().trusted, 38n * COIN);

    // Another spend of the same coin confirms (a second wallet instance, a restored copy...).
    const rival = spend(cb, 0, [[49n * COIN, OTHER_SCRIPT]]);
    const b = connect([coinbase(3, OTHER_SCRIPT), rival]);
    assert.equal(wallet.getTransaction(send.txidHex())?.confirmations, -1);
    assert.equal(wallet.getTransaction(child.txidHex())?.confirmations, -1);
    assert.deepEqual(wallet.conflictsOf(send.txidHex()), [rival.txidHex()]);
    assert.deepEqual(wallet.conflictsOf(rival.txidHex()), [send.txidHex()]);
    // The rival spent the coin; nothing of the conflicted pair counts.
    assert.deepEqual(wallet.getBalances(), { trusted: 0n, untrustedPending: 0n, immature: 0n });
    assert.deepEqual(wallet.pendingTransactions(), []);
    connect([coinbase(4, OTHER_SCRIPT)]);
    assert.equal(wallet.getTransaction(send.txidHex())?.confirmations, -2);

    // Both blocks go: the rival is unconfirmed again and the send is no longer conflicted.
    wallet.onBlockDisconnected(chain.pop(), 4);
    assert.equal(chain.pop(), b);
    wallet.onBlockDisconnected(b, 3);
    assert.equal(wallet.getTransaction(send.txidHex())?.confirmations, 0);
    // The coin is spent (by both, unconfirmed); the balance never counts both changes.
    assert.ok(wallet.getBalances().trusted <= 38n * COIN);
  } finally {
    s.cleanup();
  }
});

test('the coin stays spent after a reload while two spenders exist (no last-writer-wins)', async () => {
  const s = await setup();
  try {
    const { wallet, cb, change, opts } = s;
    const a = spend(cb, 0, [[49n * COIN, change]]);
    const b = spend(cb, 0, [[48n * COIN, OTHER_SCRIPT]]);
    wallet.onTxAccepted(a);
    wallet.onTxAccepted(b);
    const reloaded = Wallet.load(opts);
    const coins = reloaded.listCoins().map((c) => c.txid);
    assert.ok(!coins.includes(s.cb.txidHex()), 'the coinbase coin is spent');
  } finally {
    s.cleanup();
  }
});

test('abandon: only an unconfirmed transaction out of the pool; its inputs come back, its descendants go too', async () => {
  const pool = new Set<string>();
  const s = await setup((txid) => pool.has(txid));
  try {
    const { wallet, connect, cb, change } = s;
    const send = spend(cb, 0, [
      [10n * COIN, OTHER_SCRIPT],
      [39n * COIN, change],
    ]);
    const child = spend(send, 1, [[38n * COIN, change]]);
    pool.add(send.txidHex()).add(child.txidHex());
    wallet.onTxAccepted(send);
    wallet.onTxAccepted(child);
    assert.equal(wallet.getBalances().trusted, 38n * COIN);
    assert.equal(wallet.abandon(send.txidHex()), false, 'in the pool: not eligible');
    assert.throws(() => wallet.abandon('00'.repeat(32)), WalletError);

    // The node restarted without them: the coin is still spent, and no phantom change counts.
    pool.clear();
    assert.deepEqual(wallet.getBalances(), { trusted: 0n, untrustedPending: 0n, immature: 0n });
    assert.deepEqual(
      wallet.pendingTransactions().map((t) => t.txidHex()),
      [send.txidHex(), child.txidHex()],
    );
    assert.equal(wallet.abandon(send.txidHex()), true);
    assert.equal(wallet.getBalances().trusted, 50n * COIN);
    assert.deepEqual(wallet.pendingTransactions(), []);
    assert.equal(wallet.getTransaction(child.txidHex())?.record.abandoned, true);
    // Survives a reload.
    assert.equal(Wallet.load(s.opts).getBalances().trusted, 50n * COIN);

    // Confirmed after all: no longer abandoned.
    connect([coinbase(3, OTHER_SCRIPT), send]);
    assert.equal(wallet.getTransaction(send.txidHex())?.record.abandoned, undefined);
    assert.equal(wallet.abandon(send.txidHex()), false, 'confirmed: not eligible');
  } finally {
    s.cleanup();
  }
});

test('rewind: blocks above the fork are forgotten, their coinbases go and their transactions become unconfirmed', async () => {
  const s = await setup();
  try {
    const { wallet, chain, connect, cb, mine } = s;
    const pay = spend(cb, 0, [[49n * COIN, mine]]);
    connect([coinbase(3, mine), pay]);
    connect([coinbase(4, mine)]);
    assert.equal(wallet.getBalances().immature + wallet.getBalances().trusted, 149n * COIN);
    const fork = chain.blocks[2];
    wallet.rewind(2, fork.hashHex());
    assert.deepEqual(wallet.tip, { height: 2, hash: fork.hashHex() });
    assert.equal(wallet.getTransaction(pay.txidHex())?.confirmations, 0);
    assert.equal(wallet.getTransaction(chain.blocks[3].txs[0].txidHex()), null);
    // Only the unconfirmed payment is left (our own, spending our confirmed coinbase).
    assert.deepEqual(wallet.getBalances(), { trusted: 49n * COIN, untrustedPending: 0n, immature: 0n });
  } finally {
    s.cleanup();
  }
});

test('runExclusive runs sends one at a time', async () => {
  const s = await setup();
  try {
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(`${name} start`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`${name} end`);
    };
    await Promise.all([s.wallet.runExclusive(job('a')), s.wallet.runExclusive(job('b'))]);
    assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end']);
  } finally {
    s.cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalletAlreadyLoadedError, WalletManager } from '../../src/wallet/manager.js';
import { addressToScript } from '../../src/primitives/address.js';
import { newMnemonic } from '../../src/wallet/keys.js';
import { Wallet } from '../../src/wallet/wallet.js';
import { ChainFixture, coinbase, spend, COIN, OTHER_SCRIPT } from './chain-fixture.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };

test('a restored wallet is rescanned by the follower, then learns pool transactions parents first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-manager-'));
  try {
    const mnemonic = newMnemonic();
    // The original wallet only to learn its first address.
    const { wallet: orig } = await Wallet.create({
      path: join(dir, 'orig.json'),
      network: 'regtest',
      prefixes: PREFIXES,
      coinbaseMaturity: 1,
      mnemonic,
    });
    const script = addressToScript(orig.getNewAddress(), PREFIXES);
    const chain = new ChainFixture();
    for (let h = 0; h < 3; h++) chain.push(chain.next([coinbase(h, script, 10n * COIN)]));
    const parent = spend(chain.blocks[0].txs[0], 0, [[9n * COIN, script]]);
    const child = spend(parent, 0, [[8n * COIN, OTHER_SCRIPT]]);
    let pending = [child, parent]; // out of order, as a pool map may hold them after a reorg
    const synced = new Set<Wallet>();
    const wallets = new WalletManager({
      dir: join(dir, 'wallets'),
      network: 'regtest',
      prefixes: PREFIXES,
      coinbaseMaturity: 1,
      follower: {
        isSynced: (w) => synced.has(w),
        sync: async (w, { restored }) => {
          if (restored) await w.rescan(chain.blocks.map((block, height) => ({ block, height })));
          synced.add(w);
        },
        pendingTxs: () => pending,
      },
    });
    await wallets.create('copy', { mnemonic });
    const w = wallets.get('copy');
    // Two mature coinbases (the third has one confirmation: immature); the first is spent by
    // `parent`, whose output `child` spends in turn.
    assert.deepEqual(w.getBalances(), { trusted: 10n * COIN, untrustedPending: 0n, immature: 10n * COIN });
    const sends = w.listTransactions(100).filter((e) => e.category === 'send');
    assert.deepEqual(
      sends.map((e) => [e.txid, e.amount]),
      [
        [parent.txidHex(), -9n * COIN], // to itself: listed as a send and a receive, as Core does
        [child.txidHex(), -8n * COIN],
      ],
    );
    pending = [];
    await assert.rejects(wallets.load('copy'), WalletAlreadyLoadedError);
    await assert.rejects(wallets.create('copy'), /already exists/);
    wallets.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

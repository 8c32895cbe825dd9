import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcServer } from '../../src/rpc/server.js';
import { RpcClient } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';
import { registerWalletMethods } from '../../src/rpc/wallet-methods.js';
import { WalletManager } from '../../src/wallet/manager.js';
import { addressToScript } from '../../src/primitives/address.js';
import type { Tx } from '../../src/primitives/tx.js';
import { ChainFixture, coinbase, COIN } from '../wallet/chain-fixture.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };
const code = (c: number) => (e: unknown) => e instanceof RpcError && e.code === c;

test('wallet RPC: create, address, balances, lock/unlock, send, errors with Core codes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wrpc-'));
  const wallets = new WalletManager({
    dir: join(dir, 'wallets'),
    network: 'regtest',
    prefixes: PREFIXES,
    coinbaseMaturity: 1,
  });
  const sent: Tx[] = [];
  const server = new RpcServer({ port: 0, auth: { cookieDir: dir } });
  registerWalletMethods(server, {
    wallets,
    broadcast: async (tx) => void sent.push(tx),
    defaultFeeRatePerKb: 1000n,
  });
  await server.start();
  const rpc = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie') });
  try {
    await assert.rejects(rpc.call('getnewaddress'), code(-18));
    const created = await rpc.call<{ name: string; mnemonic: string }>('createwallet', {
      wallet_name: 'alice',
      passphrase: 'pw',
    });
    assert.equal(created.name, 'alice');
    assert.equal(created.mnemonic.split(' ').length, 12);
    await assert.rejects(rpc.call('createwallet', ['alice']), code(-4));
    const addr = await rpc.call<string>('getnewaddress', ['salary']);
    const chain = new ChainFixture();
    for (let h = 0; h < 3; h++) {
      const b = chain.next([coinbase(h, addressToScript(addr, PREFIXES), 10n * COIN)]);
      wallets.onBlockConnected(b, chain.push(b));
    }
    assert.deepEqual(await rpc.call('getbalances'), {
      mine: { trusted: 20, untrusted_pending: 0, immature: 10 },
      lastprocessedblock: { hash: chain.blocks[2].hashHex(), height: 2 },
    });
    const dest = 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn';
    await assert.rejects(rpc.call('sendtoaddress', [dest, 1]), code(-13));
    await assert.rejects(rpc.call('walletpassphrase', ['nope', 60]), code(-14));
    assert.equal(await rpc.call('walletpassphrase', ['pw', 60]), null);
    await assert.rejects(rpc.call('sendtoaddress', ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfX', 1]), code(-5));
    await assert.rejects(rpc.call('sendtoaddress', [dest, 50]), code(-6));
    await assert.rejects(rpc.call('sendtoaddress', [dest, -1]), code(-3));
    const txid = await rpc.call<string>('sendtoaddress', { address: dest, amount: '1.5', fee_rate: 2 });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].txidHex(), txid);
    const history = await rpc.call<{ category: string; amount: number; fee?: number }[]>('listtransactions');
    const send = history.find((e) => e.category === 'send')!;
    assert.equal(send.amount, -1.5);
    assert.ok(send.fee! < 0);
    const tx = await rpc.call<{ amount: number; confirmations: number }>('gettransaction', [txid]);
    assert.equal(tx.confirmations, 0);
    assert.equal(await rpc.call('walletlock'), null);
    await assert.rejects(rpc.call('sendtoaddress', [dest, 1]), code(-13));
    const info = await rpc.call<{ ismine: boolean; hdkeypath: string; labels: string[] }>('getaddressinfo', [
      addr,
    ]);
    assert.deepEqual([info.ismine, info.hdkeypath, info.labels], [true, "m/44'/1'/0'/0/0", ['salary']]);
    const backup = join(dir, 'alice-backup.json');
    await rpc.call('backupwallet', [backup]);
    assert.ok(existsSync(backup));

    // Two wallets: calls must name one through /wallet/<name>.
    await rpc.call('createwallet', ['bob']);
    await assert.rejects(rpc.call('getbalance'), code(-19));
    const bob = new RpcClient({ port: server.port, cookieFile: join(dir, '.cookie'), wallet: 'bob' });
    assert.equal(await bob.call('getbalance'), 0);
    await assert.rejects(bob.call('walletlock'), code(-15));
    assert.deepEqual(await rpc.call('listwallets'), ['alice', 'bob']);
  } finally {
    await server.stop();
    wallets.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

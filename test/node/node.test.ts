import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/node/config.js';
import { DataDirLockedError } from '../../src/node/datadir.js';
import { TallyNode } from '../../src/node/node.js';
import { RpcClient } from '../../src/rpc/client.js';

const root = mkdtempSync(join(tmpdir(), 'tally-node-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = () =>
  loadConfig({ network: 'regtest', datadir: root, port: 0, rpcport: 0, printtoconsole: 'false' });

async function start() {
  let stopped!: (err?: unknown) => void;
  const done = new Promise<unknown>((r) => (stopped = r));
  const node = await TallyNode.start(config(), { onStopped: (e) => stopped(e) });
  const rpc = new RpcClient({
    host: '127.0.0.1',
    port: node.rpc.port,
    cookieFile: join(root, 'regtest', '.cookie'),
  });
  return { node, rpc, done };
}

test('a node starts, holds its data directory, answers RPC, and stops on the stop call', async () => {
  const { node, rpc, done } = await start();
  try {
    assert.ok(existsSync(join(root, 'regtest', '.cookie')));
    assert.ok(existsSync(join(root, 'regtest', '.lock')));
    assert.deepEqual(await rpc.call('listwallets'), []);
    await assert.rejects(() => TallyNode.start(config()), DataDirLockedError);
    const created = await rpc.call<{ name: string; mnemonic: string }>('createwallet', ['w1']);
    assert.equal(created.name, 'w1');
    assert.match(await rpc.call<string>('getnewaddress'), /^[mn2r][1-9A-HJ-NP-Za-km-z]{25,34}$/);
    assert.equal(await rpc.call('stop'), 'Tally server stopping');
    assert.equal(await done, undefined);
  } finally {
    await node.stop();
  }
  assert.ok(!existsSync(join(root, 'regtest', '.cookie')), 'the cookie is removed on exit');
  assert.ok(!existsSync(join(root, 'regtest', '.lock')), 'the lock is released on exit');
  assert.ok(existsSync(join(root, 'regtest', 'mempool.dat')));
  assert.ok(existsSync(join(root, 'regtest', 'debug.log')));
});

test('a restarted node loads its wallets again, caught up with the chain', async () => {
  const { node, rpc } = await start();
  try {
    assert.deepEqual(await rpc.call('listwallets'), ['w1']);
    const w = node.wallets.get('w1');
    assert.equal(w.tip?.hash, node.chain.tip.hashHex);
  } finally {
    await node.stop();
  }
});

test('mined coins reach the wallet; a send survives a restart in mempool.dat and returns to the pool when its block is invalidated', async () => {
  let txid: string;
  {
    const { node, rpc } = await start();
    try {
      const addr = await rpc.call<string>('getnewaddress');
      await rpc.call('generatetoaddress', [101, addr]);
      assert.equal(await rpc.call('getblockcount'), 101);
      const bal = await rpc.call<{ mine: { trusted: number; immature: number } }>('getbalances');
      assert.equal(bal.mine.trusted, 50);
      assert.equal(bal.mine.immature, 5000);
      const to = await rpc.call<string>('getnewaddress');
      txid = await rpc.call<string>('sendtoaddress', [to, 1.5]);
      assert.deepEqual(await rpc.call('getrawmempool'), [txid]);
    } finally {
      await node.stop();
    }
  }
  const { node, rpc } = await start();
  try {
    assert.deepEqual(await rpc.call('getrawmempool'), [txid], 'mempool.dat brought it back');
    const [hash] = await rpc.call<string[]>('generatetoaddress', [
      1,
      await rpc.call<string>('getnewaddress'),
    ]);
    assert.deepEqual(await rpc.call('getrawmempool'), []);
    const block = await rpc.call<{ tx: string[] }>('getblock', [hash]);
    assert.ok(block.tx.includes(txid));
    await rpc.call('invalidateblock', [hash]);
    assert.equal(await rpc.call('getblockcount'), 101);
    await waitFor(async () => (await rpc.call<string[]>('getrawmempool')).includes(txid));
    const wtx = await rpc.call<{ confirmations: number }>('gettransaction', [txid]);
    assert.equal(wtx.confirmations, 0);
  } finally {
    await node.stop();
  }
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

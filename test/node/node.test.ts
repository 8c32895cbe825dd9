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

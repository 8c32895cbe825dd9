// Restoring a wallet from its recovery phrase on a running node: the node's wallet follower must
// rescan the chain so the restored copy finds every coin and transaction of the original,
// including payments to later addresses of the lookahead window and its own spends. The restore
// goes through the `tally wallet create --mnemonic` command, as a user would type it. Then a send
// between two connected nodes: relayed to the peer's pool and seen by the payee's wallet there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/node/config.js';
import { TallyNode } from '../../src/node/node.js';
import { RpcClient } from '../../src/rpc/client.js';

const root = mkdtempSync(join(tmpdir(), 'tally-restore-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCli(args, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    stdin,
  });
  return { code, out, err };
}

interface Entry {
  txid: string;
  category: string;
  amount: number;
  vout: number;
  confirmations: number;
}
const key = (e: Entry) => `${e.txid}:${e.vout}:${e.category}:${e.amount}:${e.confirmations}`;

test('a wallet restored from its mnemonic on a node with mined blocks finds the same coins and history', async () => {
  const config = loadConfig({
    network: 'regtest',
    datadir: root,
    port: 0,
    rpcport: 0,
    printtoconsole: 'false',
  });
  const node = await TallyNode.start(config);
  const cookieFile = join(root, 'regtest', '.cookie');
  const rpc = (wallet?: string) => new RpcClient({ port: node.rpc.port, cookieFile, wallet });
  try {
    const { mnemonic } = await rpc().call<{ mnemonic: string }>('createwallet', ['orig']);
    await rpc().call('createwallet', ['other']);
    const orig = rpc('orig');
    const addrs: string[] = [];
    for (let i = 0; i < 6; i++) addrs.push(await orig.call<string>('getnewaddress'));
    const away = await rpc('other').call<string>('getnewaddress');
    await orig.call('generatetoaddress', [101, addrs[0]]);
    // A payment to a later receive address (index 5), a spend to another wallet, both mined.
    await orig.call('sendtoaddress', [addrs[5], 2]);
    await orig.call('sendtoaddress', [away, 3.5]);
    await orig.call('generatetoaddress', [1, away]);
    // One of its transactions still unconfirmed when the restore happens. Two blocks without
    // pool transactions give the estimator nothing: the node's fallback rate (10 base units/byte).
    const pending = await orig.call<{ txid: string; fee_reason: string }>('sendtoaddress', {
      address: away,
      amount: 1,
      verbose: true,
    });
    assert.equal(pending.fee_reason, 'Fallback fee');
    // Core's verbose answer is {txid, fee_reason}: the fee is gettransaction's (negative: paid).
    const { fee } = await orig.call<{ fee: number }>('gettransaction', [pending.txid]);
    const size = (await orig.call<{ vsize: number }>('getmempoolentry', [pending.txid])).vsize;
    assert.equal(Math.round((-fee * 1e8) / size), 10);

    const g = ['--network', 'regtest', '--datadir', root, '--rpcport', String(node.rpc.port)];
    const restored = await cli(...g, 'wallet', 'create', '--name', 'restored', '--mnemonic', mnemonic);
    assert.equal(restored.code, 0, restored.err);
    assert.ok(restored.out.includes(mnemonic));
    const copy = rpc('restored');

    const want = await orig.call<{ mine: Record<string, number> }>('getbalances');
    assert.equal(want.mine.immature, 4950); // blocks 3..101 have at most 100 confirmations at 102
    assert.ok(want.mine.trusted > 95.49 && want.mine.trusted < 95.5, `trusted ${want.mine.trusted}`);
    assert.deepEqual(await copy.call('getbalances'), want);
    // Options after the command's arguments, as bitcoin-cli takes them.
    const human = await cli('wallet', 'balance', ...g, '--rpcwallet', 'restored');
    assert.equal(human.code, 0, human.err);
    assert.equal(human.out, (await cli(...g, '--rpcwallet', 'orig', 'wallet', 'balance')).out);

    const coins = async (c: RpcClient) =>
      (await c.call<{ txid: string; vout: number }[]>('listunspent', [0]))
        .map((u) => `${u.txid}:${u.vout}`)
        .sort();
    assert.deepEqual(await coins(copy), await coins(orig));
    const history = async (c: RpcClient) =>
      (await c.call<Entry[]>('listtransactions', ['*', 1000])).map(key).sort();
    assert.deepEqual(await history(copy), await history(orig));

    // The restored wallet hands out the next unused address, not one the original already used.
    assert.ok(!addrs.includes(await copy.call<string>('getnewaddress')));
    const bad = await cli(...g, 'wallet', 'create', '--name', 'x', '--mnemonic', 'abandon abandon');
    assert.deepEqual(
      [bad.code, bad.err],
      [1, 'error: invalid mnemonic: unknown word or bad checksum (code -8)\n'],
    );
  } finally {
    await node.stop();
  }
});

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a wallet send is relayed: the peer's pool takes it and the payee's wallet there shows it pending", async () => {
  const start = (name: string, connect: string[] = []) =>
    TallyNode.start(
      loadConfig({
        network: 'regtest',
        datadir: join(root, name),
        port: 0,
        rpcport: 0,
        printtoconsole: 'false',
        connect,
      }),
    );
  const a = await start('a');
  let b: TallyNode | undefined;
  try {
    b = await start('b', [`ws://127.0.0.1:${a.p2p.port}`]);
    const rpcA = new RpcClient({ port: a.rpc.port, cookieFile: join(root, 'a', 'regtest', '.cookie') });
    const rpcB = new RpcClient({ port: b.rpc.port, cookieFile: join(root, 'b', 'regtest', '.cookie') });
    await rpcA.call('createwallet', ['payer']);
    await rpcB.call('createwallet', ['payee']);
    await rpcA.call('generatetoaddress', [101, await rpcA.call<string>('getnewaddress')]);
    await waitFor('b to sync', async () => (await rpcB.call<number>('getblockcount')) === 101);
    const to = await rpcB.call<string>('getnewaddress');
    const txid = await rpcA.call<string>('sendtoaddress', [to, 2.5]);
    await waitFor('the relay', async () => (await rpcB.call<string[]>('getrawmempool')).includes(txid));
    const bal = await rpcB.call<{ mine: { trusted: number; untrusted_pending: number } }>('getbalances');
    assert.deepEqual([bal.mine.trusted, bal.mine.untrusted_pending], [0, 2.5]);
  } finally {
    await b?.stop();
    await a.stop();
  }
});

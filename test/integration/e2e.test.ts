// The `tally` binary as a user runs it (issue 7): three regtest nodes, wallets made with
// `tally wallet create`, coins mined with `tally rpc generatetoaddress`, sent with
// `tally wallet send`, relayed to a third node which mines them; every node agrees on the result.
// Then one node is SIGKILLed and restarted: it rejoins, agrees on tip and UTXO set, and its wallet
// still holds its coins. Waiting loops poll over RPC; every step a user takes goes through the CLI.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopAll, waitFor, waitSameTip, type TallyProcess } from './cluster.js';

/** Runs a CLI command on a node; fails the test with its stderr when it exits non-zero. */
async function tally(node: TallyProcess, ...args: string[]): Promise<string> {
  const r = await node.cli(...args);
  assert.equal(r.code, 0, `tally ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

async function tallyJson<T>(node: TallyProcess, ...args: string[]): Promise<T> {
  return JSON.parse(await tally(node, ...args)) as T;
}

interface Balances {
  mine: { trusted: number; untrusted_pending: number; immature: number };
}

/** Waits until the wallet counts `coins` confirmed, then checks what `tally wallet balance` says. */
async function expectBalance(node: TallyProcess, coins: number): Promise<void> {
  await waitFor(
    async () => (await node.rpc<Balances>('getbalances')).mine.trusted === coins,
    10_000,
    `a confirmed balance of ${coins}`,
  );
  const r = await tallyJson<Balances>(node, 'wallet', 'balance', '--json');
  assert.deepEqual(r.mine, { trusted: coins, untrusted_pending: 0, immature: 0 });
}

describe('tally end to end', { timeout: 180_000 }, () => {
  after(stopAll);

  it('mines, sends across three nodes, and survives a SIGKILL', async (t) => {
    const a = await startNode();
    const b = await startNode({ args: ['--connect', a.p2pUrl] });
    const c = await startNode({ args: ['--connect', a.p2pUrl, '--connect', b.p2pUrl] });
    const nodes = [a, b, c];

    for (const n of [a, b]) assert.match(await tally(n, 'wallet', 'create'), /^Created wallet "default"\./);
    const addrA = await tally(a, 'wallet', 'address');
    const addrB = await tally(b, 'wallet', 'address');

    const mined = await tallyJson<string[]>(a, 'rpc', 'generatetoaddress', '101', addrA);
    assert.equal(mined.length, 101);
    assert.equal(await waitSameTip(nodes, 30_000), mined[100]);
    const before = await tallyJson<Balances>(a, 'wallet', 'balance', '--json');
    assert.equal(before.mine.trusted, 50);
    assert.equal(before.mine.immature, 5000);

    // A pays B; the transaction crosses to C, which mines it.
    const txid = await tally(a, 'wallet', 'send', addrB, '12.5');
    assert.match(txid, /^[0-9a-f]{64}$/);
    await waitFor(async () => (await c.rpc<string[]>('getrawmempool')).includes(txid), 20_000, 'the tx at C');
    assert.deepEqual(await tallyJson(c, 'rpc', 'getrawmempool'), [txid]);
    const [block] = await tallyJson<string[]>(c, 'rpc', 'generatetoaddress', '1', addrA);
    assert.equal(await waitSameTip(nodes, 20_000), block);
    for (const n of nodes) assert.equal(await tally(n, 'rpc', 'getbestblockhash'), block);

    await expectBalance(b, 12.5);
    assert.match(await tally(b, 'wallet', 'balance'), /confirmed: +12\.50000000/);

    // B's output, as each node's UTXO set has it.
    const tx = await tallyJson<{ vout: { n: number; value: number; scriptPubKey: { address?: string } }[] }>(
      c,
      'rpc',
      'getrawtransaction',
      txid,
      '1',
      block,
    );
    const out = tx.vout.find((o) => o.scriptPubKey.address === addrB);
    assert.ok(out, `no output to ${addrB}`);
    assert.equal(out.value, 12.5);
    const coins = await Promise.all(nodes.map((n) => tallyJson(n, 'rpc', 'gettxout', txid, String(out.n))));
    for (const coin of coins) assert.deepEqual(coin, coins[0]);
    assert.equal((coins[0] as { value: number }).value, 12.5);
    assert.equal((coins[0] as { confirmations: number }).confirmations, 1);

    // B crashes; the others go on (a new block and a payment to B); B restarts and rejoins.
    await b.kill('SIGKILL');
    const txid2 = await tally(a, 'wallet', 'send', addrB, '1');
    await waitFor(async () => (await c.rpc<string[]>('getrawmempool')).includes(txid2), 20_000, 'tx 2 at C');
    const more = await tallyJson<string[]>(a, 'rpc', 'generatetoaddress', '3', addrA);
    await waitSameTip([a, c], 20_000);
    const t0 = Date.now();
    await b.restart();
    assert.equal(await waitSameTip(nodes, 30_000), more[2]);
    t.diagnostic(`B rejoined in ${Date.now() - t0} ms (restart included)`);
    // disk_size is each node's own: the set is the hash, the height and the counts.
    const digests = await Promise.all(
      nodes.map(async (n) => {
        const { disk_size: _, ...set } = await tallyJson<{ disk_size: number; height: number }>(
          n,
          'rpc',
          'gettxoutsetinfo',
        );
        return set;
      }),
    );
    for (const d of digests) assert.deepEqual(d, digests[0]);
    assert.equal(digests[0].height, 105);
    await expectBalance(b, 13.5);
  });
});

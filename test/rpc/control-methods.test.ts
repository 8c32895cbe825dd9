// Core v29's logging, prioritisetransaction/getprioritisedtransactions, setnetworkactive,
// preciousblock and getblockfrompeer against two real tally processes: results and Core's error
// codes, and each one's effect (what debug.log gets, which transaction a template takes first or
// the pool admits, whether peers connect, which equal-work tip is active, a stale block fetched).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_CATEGORIES } from '../../src/node/logging.js';
import { rpcCode as code } from './helpers.js';
import { startNode, stopAll, waitFor, type TallyProcess } from '../integration/cluster.js';

let a: TallyProcess;
let b: TallyProcess;
let address: string;
before(async () => {
  [a, b] = await Promise.all([
    startNode({ args: ['--connect', '0'] }),
    startNode({ args: ['--connect', '0'] }),
  ]);
  await a.rpc('createwallet', ['w']);
  address = await a.rpc<string>('getnewaddress');
  await a.rpc('generatetoaddress', [120, address]);
});
after(() => stopAll());

const debugLines = (n: TallyProcess, sub: string): string[] =>
  readFileSync(join(n.networkDir, 'debug.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"sub":"${sub}"`) && l.includes('"level":20'));

test("logging: Tally's categories, debug lines only while included, -8 for Core's others", async () => {
  const all = await a.rpc<Record<string, boolean>>('logging');
  assert.deepEqual(Object.keys(all), [...LOG_CATEGORIES]);
  assert.ok(Object.values(all).every((v) => v === false));
  await a.rpc('sendtoaddress', [address, 1]);
  await new Promise((r) => setTimeout(r, 300)); // pino writes asynchronously
  assert.equal(debugLines(a, 'mempool').length, 0);

  const on = await a.rpc<Record<string, boolean>>('logging', [['mempool']]);
  assert.equal(on.mempool, true);
  assert.equal(on.net, false);
  const txid = await a.rpc<string>('sendtoaddress', [address, 1]);
  await waitFor(() => debugLines(a, 'mempool').some((l) => l.includes(txid)), 5000, 'a mempool debug line');

  // Excluded after included: off; 'all' names every category.
  const both = await a.rpc<Record<string, boolean>>('logging', { include: ['all'], exclude: ['mempool'] });
  assert.equal(both.mempool, false);
  assert.equal(both.chain, true);
  const none = await a.rpc<Record<string, boolean>>('logging', [[], ['all']]);
  assert.ok(Object.values(none).every((v) => v === false));
  const seen = debugLines(a, 'mempool').length;
  await a.rpc('sendtoaddress', [address, 1]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(debugLines(a, 'mempool').length, seen);

  await assert.rejects(a.rpc('logging', [['tor']]), code(-8, /^unknown logging category tor$/));
  await assert.rejects(a.rpc('logging', [[], ['leveldb']]), code(-8, /unknown logging category leveldb/));
  await a.rpc('generatetoaddress', [1, address]);
});

test('prioritisetransaction: the delta orders the template, admits a zero-fee tx, is kept until mined', async () => {
  // Three independent spends of confirmed coins, built by hand (the wallet would chain its change).
  const coins = await a.rpc<{ txid: string; vout: number; amount: number }[]>('listunspent');
  const spend = async (i: number, feeSats: number): Promise<string> => {
    const c = coins[i];
    const raw = await a.rpc<string>('createrawtransaction', [
      [{ txid: c.txid, vout: c.vout }],
      { [address]: (Math.round(c.amount * 1e8) - feeSats) / 1e8 },
    ]);
    return (await a.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw])).hex;
  };
  for (const hex of [await spend(0, 10_000), await spend(1, 10_000)])
    await a.rpc('sendrawtransaction', [hex]);
  // The template's own order first (the pool changed, so it is built afresh), then the second
  // one raised above the first: the block mined next takes it first.
  const [t1, t2] = (
    await a.rpc<{ transactions: { txid: string }[] }>('getblocktemplate', [{ rules: [] }])
  ).transactions.map((t) => t.txid);
  assert.equal(await a.rpc('prioritisetransaction', [t2, 0, 1_000_000]), true);
  assert.equal(await a.rpc('prioritisetransaction', { txid: t1, fee_delta: -1 }), true);
  const entry = await a.rpc<{ fees: { base: number; modified: number } }>('getmempoolentry', [t2]);
  assert.equal(Math.round((entry.fees.modified - entry.fees.base) * 1e8), 1_000_000);

  // A transaction paying no fee is refused, then admitted once prioritised (Core checks the modified fee).
  const zeroFee = await spend(2, 0);
  await assert.rejects(a.rpc('sendrawtransaction', [zeroFee]), code(-26, /min relay fee not met/));
  const free = (await a.rpc<{ txid: string }>('decoderawtransaction', [zeroFee])).txid;
  await a.rpc('prioritisetransaction', [free, null, 10_000]);
  const unknown = 'ab'.repeat(32);
  await a.rpc('prioritisetransaction', [unknown, 0, -500]);
  let p = await a.rpc<Record<string, Record<string, unknown>>>('getprioritisedtransactions');
  assert.deepEqual(p[free], { fee_delta: 10_000, in_mempool: false });
  assert.deepEqual(p[unknown], { fee_delta: -500, in_mempool: false });
  assert.equal(await a.rpc('sendrawtransaction', [zeroFee]), free);
  p = await a.rpc('getprioritisedtransactions');
  assert.deepEqual(p[free], { fee_delta: 10_000, in_mempool: true, modified_fee: 10_000 });
  assert.equal(p[t2].fee_delta, 1_000_000);

  // Mined: t2 before t1, and the deltas of confirmed transactions are dropped (Core's
  // ClearPrioritisation).
  const [mined] = await a.rpc<string[]>('generatetoaddress', [1, address]);
  const txs = (await a.rpc<{ tx: string[] }>('getblock', [mined])).tx;
  assert.ok(txs.indexOf(t2) >= 1 && txs.indexOf(t2) < txs.indexOf(t1), 'the prioritised one first');
  p = await a.rpc('getprioritisedtransactions');
  assert.deepEqual(Object.keys(p), [unknown]);
  assert.ok(txs.includes(free));
  await a.rpc('prioritisetransaction', [unknown, 0, 500]); // a sum of zero forgets it
  assert.deepEqual(await a.rpc('getprioritisedtransactions'), {});
  await assert.rejects(
    a.rpc('prioritisetransaction', [unknown, 1, 500]),
    code(-8, /dummy argument to prioritisetransaction must be 0/),
  );
  await assert.rejects(
    a.rpc('prioritisetransaction', [unknown]),
    code(-1, /^prioritisetransaction "txid" \( dummy \) fee_delta\n/),
  );
  await assert.rejects(a.rpc('prioritisetransaction', ['zz', 0, 1]), code(-8));
});

test('preciousblock: the chosen one of two equal-work tips becomes active, a later call wins', async () => {
  const first = await a.rpc<string>('getbestblockhash');
  await a.rpc('invalidateblock', [first]);
  const [second] = await a.rpc<string[]>('generatetoaddress', [1, address]);
  await a.rpc('reconsiderblock', [first]);
  const tips = await a.rpc<{ hash: string; status: string }[]>('getchaintips');
  assert.deepEqual([first, second].map((h) => tips.find((t) => t.hash === h)?.status).sort(), [
    'active',
    'valid-fork',
  ]);
  for (const pick of [first, second, first]) {
    assert.equal(await a.rpc('preciousblock', [pick]), null);
    assert.equal(await a.rpc('getbestblockhash'), pick);
  }
  // An ancestor has less work: nothing changes.
  const parent = (await a.rpc<{ previousblockhash: string }>('getblockheader', [first])).previousblockhash;
  await a.rpc('preciousblock', [parent]);
  assert.equal(await a.rpc('getbestblockhash'), first);
  await assert.rejects(a.rpc('preciousblock', ['00'.repeat(32)]), code(-5, /^Block not found$/));
  await assert.rejects(a.rpc('preciousblock', ['00']), code(-8));
});

test('setnetworkactive and getblockfrompeer: peers dropped and refused, a stale block fetched from one', async () => {
  // b mines its own block 1, which a knows only as a header: with less work than a's tip, a never
  // downloads it by itself, and b (which takes a's chain once connected) keeps its data.
  await b.rpc('createwallet', ['w']);
  const [stale] = await b.rpc<string[]>('generatetoaddress', [1, await b.rpc<string>('getnewaddress')]);
  await a.rpc('submitheader', [await b.rpc<string>('getblockheader', [stale, false])]);
  await assert.rejects(a.rpc('getblockfrompeer', [stale, 0]), code(-1, /^Peer does not exist$/));

  await b.rpc('addnode', [a.p2pUrl, 'onetry']);
  await waitFor(
    async () => (await a.rpc<{ version: number }[]>('getpeerinfo'))[0]?.version > 0,
    10_000,
    'the handshake',
  );
  const [peer] = await a.rpc<{ id: number }[]>('getpeerinfo');
  const tipsOf = async () => a.rpc<{ hash: string; status: string }[]>('getchaintips');
  assert.equal((await tipsOf()).find((t) => t.hash === stale)?.status, 'headers-only');
  assert.deepEqual(await a.rpc('getblockfrompeer', [stale, peer.id]), {});
  await waitFor(
    // Stored, never connected: Core's valid-headers (all blocks available, not fully validated).
    async () => (await tipsOf()).find((t) => t.hash === stale)?.status === 'valid-headers',
    10_000,
    'the fetched block',
  );
  assert.equal((await a.rpc<{ hash: string }>('getblock', [stale])).hash, stale);
  await assert.rejects(a.rpc('getblockfrompeer', [stale, peer.id]), code(-1, /^Block already downloaded$/));
  await assert.rejects(
    a.rpc('getblockfrompeer', ['11'.repeat(32), peer.id]),
    code(-1, /^Block header missing$/),
  );
  await assert.rejects(
    a.rpc('getblockfrompeer', [stale]),
    code(-1, /^getblockfrompeer "blockhash" peer_id\n/),
  );

  // setnetworkactive false: the peer is dropped, a new one refused, addnode dials nobody.
  assert.equal((await a.rpc<{ networkactive: boolean }>('getnetworkinfo')).networkactive, true);
  assert.equal(await a.rpc('setnetworkactive', [false]), false);
  assert.equal((await a.rpc<{ networkactive: boolean }>('getnetworkinfo')).networkactive, false);
  await waitFor(async () => (await b.rpc<number>('getconnectioncount')) === 0, 10_000, 'b to see the drop');
  assert.equal(await a.rpc('getconnectioncount'), 0);
  await b.rpc('addnode', [a.p2pUrl, 'onetry']);
  await a.rpc('addnode', [b.p2pUrl, 'onetry']);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await a.rpc('getconnectioncount'), 0);
  assert.equal(await b.rpc('getconnectioncount'), 0);
  assert.equal(await a.rpc('setnetworkactive', { state: true }), true);
  await b.rpc('addnode', [a.p2pUrl, 'onetry']);
  await waitFor(async () => (await a.rpc<number>('getconnectioncount')) >= 1, 10_000, 'a connection again');
  await assert.rejects(a.rpc('setnetworkactive', ['no']), code(-3));
});

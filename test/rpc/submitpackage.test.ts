// submitpackage against one real tally process, as Core v29's: a parent paying nothing enters
// with its child at the package's fee rate (CPFP) and both are mined; a child too cheap to carry
// its parent leaves the pool untouched; transactions valid alone are judged alone; ones already in
// the pool answer without an effective fee rate; the package rules (topology, a pool parent left
// out) and the parameter errors are Core's. Result fields are compared with Core's help text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { addressToScript } from '../../src/primitives/address.js';
import { bytesToHex, hashFromHex, hexToBytes } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { nullDataScript } from '../../src/script/standard.js';
import { stopAll, type TallyProcess } from '../integration/cluster.js';
import {
  assertCoreShape,
  type CoreShape,
  independentKey,
  rpcCode as code,
  startFundedNode,
} from './helpers.js';

const prefixes = getParams('regtest').prefixes;
const COIN = 100_000_000n;

// From Core v29's help text (submitpackage's RPCResult).
const RESULT: CoreShape = { package_msg: 'string', 'tx-results': 'object', 'replaced-transactions': 'array' };
const TX_RESULT: CoreShape = {
  txid: 'string',
  'other-wtxid?': 'string',
  'vsize?': 'number',
  'fees?': 'object',
  'error?': 'string',
};
const FEES: CoreShape = { base: 'number', 'effective-feerate?': 'number', 'effective-includes?': 'array' };

interface TxResult {
  txid: string;
  vsize?: number;
  fees?: { base: number; 'effective-feerate'?: number; 'effective-includes'?: string[] };
  error?: string;
}
interface PackageReply {
  package_msg: string;
  'tx-results': Record<string, TxResult>;
  'replaced-transactions': string[];
}

let node: TallyProcess;
let walletAddress: string;
const key = independentKey();
const keyScript = addressToScript(key.address, prefixes);

before(async () => {
  ({ node, walletAddress } = await startFundedNode());
});
after(() => stopAll());

/** A confirmed coin of 1 coin at the test's key. */
async function coin(): Promise<{ txid: string; vout: number; value: bigint }> {
  const txid = await node.rpc<string>('sendtoaddress', [key.address, 1]);
  await node.rpc('generatetoaddress', [1, walletAddress]);
  const tx = await node.rpc<{ vout: { n: number; scriptPubKey: { address?: string } }[] }>(
    'getrawtransaction',
    [txid, 1, await node.rpc<string>('getbestblockhash')],
  );
  return { txid, vout: tx.vout.find((o) => o.scriptPubKey.address === key.address)!.n, value: COIN };
}

/** Spends the outpoints to the key (one output, the rest is fee), signed by signrawtransactionwithkey. */
async function spend(ins: { txid: string; vout: number }[], value: bigint, extra: TxOut[] = []): Promise<Tx> {
  const tx = new Tx(
    2,
    ins.map((i) => new TxIn(new OutPoint(hashFromHex(i.txid), i.vout), new Uint8Array(0))),
    [new TxOut(value, keyScript), ...extra],
    0,
  );
  const prevtxs = ins.map((i) => ({ txid: i.txid, vout: i.vout, scriptPubKey: bytesToHex(keyScript) }));
  const signed = await node.rpc<{ hex: string; complete: boolean }>('signrawtransactionwithkey', [
    bytesToHex(tx.encode()),
    [key.wif],
    prevtxs,
  ]);
  assert.equal(signed.complete, true);
  return Tx.decode(hexToBytes(signed.hex));
}

const hex = (tx: Tx) => bytesToHex(tx.encode());
const pool = () => node.rpc<string[]>('getrawmempool');
const sats = (coins: number) => BigInt(Math.round(coins * 1e8));

function checkShape(r: PackageReply): void {
  assertCoreShape(r, RESULT, 'submitpackage');
  for (const t of Object.values(r['tx-results'])) {
    assertCoreShape(t, TX_RESULT, 'tx-results[]');
    if (t.fees) assertCoreShape(t.fees, FEES, 'fees');
  }
}

test('a parent paying nothing enters with its child at the package fee rate, and both are mined', async () => {
  const c = await coin();
  const parent = await spend([c], c.value); // no fee
  const child = await spend([{ txid: parent.txidHex(), vout: 0 }], c.value - 20_000n);
  // Alone the parent is refused for its fee; the package carries it.
  const alone = await node.rpc<{ allowed: boolean; 'reject-reason': string }[]>('testmempoolaccept', [
    [hex(parent)],
  ]);
  assert.deepEqual([alone[0].allowed, alone[0]['reject-reason']], [false, 'min relay fee not met']);
  await assert.rejects(
    node.rpc('submitpackage', [[hex(child), hex(parent)]]),
    code(-25, 'package topology disallowed. not child-with-parents or parents depend on each other.'),
  );
  const r = await node.rpc<PackageReply>('submitpackage', [[hex(parent), hex(child)]]);
  checkShape(r);
  assert.equal(r.package_msg, 'success');
  assert.deepEqual(r['replaced-transactions'], []);
  const size = parent.size + child.size;
  const rate = Number((20_000n * 1000n) / BigInt(size)) / 1e8;
  for (const tx of [parent, child]) {
    const t = r['tx-results'][tx.txidHex()];
    assert.equal(t.txid, tx.txidHex());
    assert.equal(t.vsize, tx.size);
    assert.equal(t.fees!['effective-feerate'], rate);
    assert.deepEqual(t.fees!['effective-includes'], [parent.txidHex(), child.txidHex()]);
  }
  assert.deepEqual(
    [r['tx-results'][parent.txidHex()].fees!.base, r['tx-results'][child.txidHex()].fees!.base],
    [0, 0.0002],
  );
  assert.deepEqual((await pool()).sort(), [parent.txidHex(), child.txidHex()].sort());

  // Submitted again: both already in the pool, base fee only (Core gives no effective rate then).
  const again = await node.rpc<PackageReply>('submitpackage', [[hex(parent), hex(child)]]);
  checkShape(again);
  assert.equal(again.package_msg, 'success');
  assert.deepEqual(again['tx-results'][child.txidHex()].fees, { base: 0.0002 });

  const [block] = await node.rpc<string[]>('generatetoaddress', [1, walletAddress]);
  const mined = (await node.rpc<{ tx: string[] }>('getblock', [block])).tx;
  assert.ok(mined.includes(parent.txidHex()) && mined.includes(child.txidHex()), 'both mined');
  assert.deepEqual(await pool(), []);
});

test('a child too cheap for its parent leaves the pool as it was; ones valid alone are judged alone', async () => {
  const c = await coin();
  const parent = await spend([c], c.value);
  const child = await spend([{ txid: parent.txidHex(), vout: 0 }], c.value - 100n);
  const r = await node.rpc<PackageReply>('submitpackage', [[hex(parent), hex(child)]]);
  checkShape(r);
  assert.equal(r.package_msg, 'transaction failed');
  const size = parent.size + child.size;
  assert.equal(r['tx-results'][child.txidHex()].error, `min relay fee not met, 100 < ${size}`);
  assert.equal(r['tx-results'][parent.txidHex()].error, `min relay fee not met, 0 < ${parent.size}`);
  assert.deepEqual(await pool(), []);

  // Each pays for itself: each is accepted on its own, its effective rate its own.
  const paying = await spend([c], c.value - 10_000n);
  const kid = await spend([{ txid: paying.txidHex(), vout: 0 }], c.value - 20_000n);
  const ok = await node.rpc<PackageReply>('submitpackage', { package: [hex(paying), hex(kid)] });
  checkShape(ok);
  assert.equal(ok.package_msg, 'success');
  assert.deepEqual(ok['tx-results'][paying.txidHex()].fees!['effective-includes'], [paying.txidHex()]);
  assert.equal(
    ok['tx-results'][kid.txidHex()].fees!['effective-feerate'],
    Number((10_000n * 1000n) / BigInt(kid.size)) / 1e8,
  );
  assert.equal(sats(ok['tx-results'][kid.txidHex()].fees!.base), 10_000n);
  await node.rpc('generatetoaddress', [1, walletAddress]);
});

test("package rules and parameter errors are Core's", async () => {
  const [a, b] = [await coin(), await coin()];
  // A parent in the pool but not in the package: the child's parents must all be in it.
  const inPool = await spend([a], a.value - 10_000n);
  await node.rpc('sendrawtransaction', [hex(inPool)]);
  const other = await spend([b], b.value);
  const child = await spend(
    [
      { txid: inPool.txidHex(), vout: 0 },
      { txid: other.txidHex(), vout: 0 },
    ],
    2n * a.value - 40_000n,
  );
  const r = await node.rpc<PackageReply>('submitpackage', [[hex(other), hex(child)]]);
  checkShape(r);
  assert.equal(r.package_msg, 'package-not-child-with-unconfirmed-parents');
  assert.deepEqual(
    Object.values(r['tx-results']).map((t) => t.error),
    ['unevaluated', 'unevaluated'],
  );
  assert.ok(!(await pool()).includes(other.txidHex()));

  await assert.rejects(
    node.rpc('submitpackage', [[]]),
    code(-8, 'Array must contain between 1 and 25 transactions.'),
  );
  await assert.rejects(
    node.rpc('submitpackage', [Array(26).fill(hex(other))]),
    code(-8, 'Array must contain between 1 and 25 transactions.'),
  );
  await assert.rejects(node.rpc('submitpackage', [['zz']]), code(-22, /^TX decode failed: zz /));
  await assert.rejects(node.rpc('submitpackage', []), code(-1, /^submitpackage "?package"? /));
  // Parents that do not feed the child.
  await assert.rejects(
    node.rpc('submitpackage', [[hex(inPool), hex(other)]]),
    code(-25, /^package topology/),
  );
  const burn = await spend([b], b.value - 20_000n, [new TxOut(1n, nullDataScript(Uint8Array.of(1)))]);
  await assert.rejects(
    node.rpc('submitpackage', [[hex(burn)]]),
    code(-25, 'Unspendable output exceeds maximum configured by user (maxburnamount)'),
  );
  // maxburnamount lets it through; maxfeerate caps what it may pay.
  const capped = await node.rpc<PackageReply>('submitpackage', [[hex(burn)], 0.0001, 0.00000001]);
  assert.match(capped['tx-results'][burn.txidHex()].error!, /^max feerate exceeded, /);
  const one = await node.rpc<PackageReply>('submitpackage', [[hex(burn)], 0, 0.00000001]);
  assert.equal(one.package_msg, 'success');
  assert.ok((await pool()).includes(burn.txidHex()));
});

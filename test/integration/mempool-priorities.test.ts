// prioritisetransaction's deltas on a real tally node (issue 14): replacement compares modified
// fees (base + delta) on both sides as Core's full RBF does, so a prioritised transaction resists a
// replacement paying more and a prioritised one paying less replaces; mempool.dat keeps each
// entry's delta and Core's mapDeltas (deltas of transactions not in the pool) across a restart;
// importmempool takes the deltas over only with apply_fee_delta_priority, and refuses bad options.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeMempoolFile } from '../../src/mempool/persist.js';
import { bytesToHex, hashFromHex } from '../../src/primitives/bytes.js';
import { rpcCode as code } from '../rpc/helpers.js';
import { startWalletNode, stopAll, type TallyProcess } from './cluster.js';

type Prioritised = Record<string, { fee_delta: number; in_mempool: boolean; modified_fee?: number }>;

let node: TallyProcess;
let address: string;
before(async () => {
  ({ node, address } = await startWalletNode());
});
after(() => stopAll());

let coin: { txid: string; vout: number; amount: number };
/** A signed spend of `coin` paying `feeSats`, and its txid (not sent). */
async function conflicting(feeSats: number): Promise<{ hex: string; txid: string }> {
  const raw = await node.rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [address]: (Math.round(coin.amount * 1e8) - feeSats) / 1e8 },
  ]);
  const { hex } = await node.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw]);
  return { hex, txid: (await node.rpc<{ txid: string }>('decoderawtransaction', [hex])).txid };
}
const pool = () => node.rpc<string[]>('getrawmempool');
const prioritised = () => node.rpc<Prioritised>('getprioritisedtransactions');

let low: { hex: string; txid: string };
const unknown = 'cd'.repeat(32);

test('replacement uses modified fees: a prioritised tx resists a higher fee, a prioritised lower fee replaces', async () => {
  [coin] = await node.rpc<{ txid: string; vout: number; amount: number }[]>('listunspent');
  const first = await conflicting(10_000);
  const second = await conflicting(20_000);
  low = await conflicting(5_000);
  assert.equal(await node.rpc('sendrawtransaction', [first.hex]), first.txid);

  // first's delta lifts its modified fee above second's: second no longer pays enough.
  await node.rpc('prioritisetransaction', [first.txid, 0, 100_000]);
  await assert.rejects(
    node.rpc('sendrawtransaction', [second.hex]),
    code(-26, /^insufficient fee, rejecting replacement .*; new feerate .* <= old feerate/),
  );
  assert.deepEqual(await pool(), [first.txid]);
  // Without the delta, second replaces first on its fee.
  await node.rpc('prioritisetransaction', [first.txid, 0, -100_000]);
  assert.equal(await node.rpc('sendrawtransaction', [second.hex]), second.txid);
  assert.deepEqual(await pool(), [second.txid]);

  // low pays a quarter of second's fee: refused, then prioritised before it is sent it replaces.
  await assert.rejects(node.rpc('sendrawtransaction', [low.hex]), code(-26, /^insufficient fee/));
  await node.rpc('prioritisetransaction', [low.txid, 0, 50_000]);
  assert.equal(await node.rpc('sendrawtransaction', [low.hex]), low.txid);
  assert.deepEqual(await pool(), [low.txid]);
  const entry = await node.rpc<{ fees: { base: number; modified: number } }>('getmempoolentry', [low.txid]);
  assert.deepEqual(entry.fees, { ...entry.fees, base: 0.00005, modified: 0.00055 });
});

test("mempool.dat keeps each entry's delta and mapDeltas across a restart; importmempool applies them only when asked", async () => {
  await node.rpc('prioritisetransaction', [unknown, 0, 777]);
  const { time } = await node.rpc<{ time: number }>('getmempoolentry', [low.txid]);
  const { filename } = await node.rpc<{ filename: string }>('savemempool');
  const saved = decodeMempoolFile(new Uint8Array(readFileSync(filename)));
  assert.equal(saved.version, 2, "Core's default: version 2 with an XOR key");
  assert.equal(saved.key.length, 8);
  assert.deepEqual(
    saved.entries.map((e) => [e.tx.txidHex(), e.feeDelta, e.time]),
    [[low.txid, 50_000n, time]],
  );
  assert.deepEqual(saved.deltas, [[bytesToHex(hashFromHex(unknown)), 777n]]);

  const expected: Prioritised = {
    [low.txid]: { fee_delta: 50_000, in_mempool: true, modified_fee: 55_000 },
    [unknown]: { fee_delta: 777, in_mempool: false },
  };
  await node.restart([...node.args, '--networkactive=0']);
  assert.equal((await node.rpc<{ networkactive: boolean }>('getnetworkinfo')).networkactive, false);
  assert.deepEqual(await pool(), [low.txid]);
  assert.deepEqual(await prioritised(), expected);
  assert.equal((await node.rpc<{ time: number }>('getmempoolentry', [low.txid])).time, time);

  // Cleared, then imported: Core's importmempool leaves the file's deltas out unless asked.
  await node.rpc('prioritisetransaction', [low.txid, 0, -50_000]);
  await node.rpc('prioritisetransaction', [unknown, 0, -777]);
  assert.deepEqual(await prioritised(), {});
  assert.deepEqual(await node.rpc('importmempool', [filename]), {});
  assert.deepEqual(await prioritised(), {});
  assert.deepEqual(await node.rpc('importmempool', [filename, { apply_fee_delta_priority: true }]), {});
  assert.deepEqual(await prioritised(), expected);

  await assert.rejects(
    node.rpc('importmempool', [filename, { apply_fee_delta_priority: 1 }]),
    code(-3, 'JSON value of type number for field apply_fee_delta_priority is not of expected type bool'),
  );
  await assert.rejects(
    node.rpc('importmempool', [filename, { use_curent_time: true }]),
    code(-3, 'Unexpected key use_curent_time'),
  );

  // Mined: the confirmed transaction's delta goes, the unknown one's stays.
  await node.rpc('generatetoaddress', [1, address]);
  assert.deepEqual(Object.keys(await prioritised()), [unknown]);
});

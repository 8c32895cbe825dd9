// The UTXO set's interface on real tally processes (issue 14): node A mines with
// coinstatsindex=1 and a payment, node B (no index) syncs from A; getindexinfo shows the index
// synced, and A's index, A's scan and B's scan give one muhash, one hash_serialized_3 and one
// count for the set both reached; A answers a height from the index and B refuses it as Core
// (-8); scantxoutset finds the payment on both; dumptxoutset on each gives the same txoutset_hash.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopAll, waitFor, waitSameTip } from './cluster.js';
import { RpcError } from '../../src/rpc/errors.js';

after(() => stopAll());

type Obj = Record<string, unknown>;

test(
  'coinstatsindex, gettxoutsetinfo, scantxoutset and dumptxoutset agree across two real nodes',
  { timeout: 180_000 },
  async () => {
    const a = await startNode({ args: ['--coinstatsindex'] });
    await a.rpc('createwallet', { wallet_name: 'default' });
    const addr = await a.rpc<string>('getnewaddress');
    await a.rpc('generatetoaddress', [101, addr]);
    const payee = await a.rpc<string>('getnewaddress');
    await a.rpc('sendtoaddress', [payee, 3]);
    await a.rpc('generatetoaddress', [1, addr]);
    const b = await startNode({ args: ['--connect', a.p2pUrl] });
    await waitSameTip([a, b], 60_000);
    await waitFor(
      async () =>
        ((await a.rpc<Obj>('getindexinfo', ['coinstatsindex'])).coinstatsindex as Obj)?.synced === true,
      30_000,
      'coinstatsindex synced',
    );
    assert.deepEqual(await a.rpc('getindexinfo', ['coinstatsindex']), {
      coinstatsindex: { synced: true, best_block_height: 102 },
    });

    const fromIndex = await a.rpc<Obj>('gettxoutsetinfo', ['muhash']);
    const scannedA = await a.rpc<Obj>('gettxoutsetinfo', ['muhash', null, false]);
    const scannedB = await b.rpc<Obj>('gettxoutsetinfo', ['muhash']);
    assert.ok(fromIndex.block_info !== undefined && scannedB.block_info === undefined);
    for (const k of ['height', 'bestblock', 'txouts', 'bogosize', 'muhash', 'total_amount']) {
      assert.equal(scannedA[k], fromIndex[k], k);
      assert.equal(scannedB[k], fromIndex[k], k);
    }
    const serialized = await Promise.all([a, b].map((n) => n.rpc<Obj>('gettxoutsetinfo')));
    assert.equal(serialized[0].hash_serialized_3, serialized[1].hash_serialized_3);

    const at101 = await a.rpc<Obj>('gettxoutsetinfo', ['muhash', 101]);
    assert.equal(at101.height, 101);
    assert.notEqual(at101.muhash, fromIndex.muhash);
    await assert.rejects(
      b.rpc('gettxoutsetinfo', ['muhash', 101]),
      (e: unknown) => e instanceof RpcError && e.code === -8,
    );

    for (const n of [a, b]) {
      const scan = await n.rpc<Obj>('scantxoutset', ['start', [`addr(${payee})`]]);
      assert.equal(scan.success, true);
      assert.equal(scan.total_amount, 3);
    }
    const dumps = await Promise.all([a, b].map((n) => n.rpc<Obj>('dumptxoutset', ['utxo.dat', 'latest'])));
    assert.equal(dumps[0].txoutset_hash, serialized[0].hash_serialized_3);
    assert.equal(dumps[1].txoutset_hash, dumps[0].txoutset_hash);
    assert.equal(dumps[1].coins_written, fromIndex.txouts);
  },
);

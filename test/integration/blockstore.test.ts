// Blocks in their own store, against real `tally node` processes: chainstate/ deleted stops the
// next start with one line naming --reindex-chainstate, which rebuilds the UTXO set from the
// stored blocks to the same digest; blocks/index/ deleted stops it with one line naming --reindex,
// which rebuilds the index and the UTXO set from the block files, again to the same digest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAddress } from '../../src/primitives/address.js';
import { getParams } from '../../src/consensus/params.js';
import { runTally, startNode, stopAll, waitFor, type TallyProcess } from './cluster.js';

after(() => stopAll());

interface TxOutSetInfo {
  height: number;
  bestblock: string;
  txouts: number;
  hash_serialized_3: string;
  total_amount: number;
}

async function digestAt(node: TallyProcess, height: number): Promise<TxOutSetInfo> {
  await waitFor(async () => (await node.rpc<number>('getblockcount')) === height, 60_000, `height ${height}`);
  const i = await node.rpc<TxOutSetInfo>('gettxoutsetinfo');
  // disk_size is LevelDB's estimate, which differs between two databases of the same set.
  return {
    height: i.height,
    bestblock: i.bestblock,
    txouts: i.txouts,
    hash_serialized_3: i.hash_serialized_3,
    total_amount: i.total_amount,
  };
}

test('deleted chainstate/ or blocks/index/: refused in one line naming the option, rebuilt to the same UTXO digest', async () => {
  const node = await startNode();
  await node.rpc('createwallet', ['w']);
  const addr = await node.rpc<string>('getnewaddress');
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('regtest').prefixes);
  await node.rpc('generatetoaddress', [105, addr]);
  // Spends, so the set is more than coinbases and the undo data is more than empty.
  for (let i = 0; i < 3; i++) await node.rpc('sendtoaddress', [other, 1 + i]);
  await node.rpc('generatetoaddress', [2, addr]);
  const before = await digestAt(node, 107);
  await node.stop();

  const net = node.networkDir;
  assert.ok(
    existsSync(join(net, 'blocks', 'blk00000.dat')) && existsSync(join(net, 'blocks', 'rev00000.dat')),
  );
  assert.ok(existsSync(join(net, 'blocks', 'index', 'CURRENT')));
  const start = (...extra: string[]) =>
    runTally([
      '--network',
      'regtest',
      '--datadir',
      node.datadir,
      'node',
      '--port',
      '0',
      '--rpcport',
      '0',
      ...extra,
    ]);

  rmSync(join(net, 'chainstate'), { recursive: true });
  let r = await start();
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /chain state is missing.*--reindex-chainstate/);
  assert.ok(!existsSync(join(net, 'chainstate')), 'nothing created in its place');
  await node.restart(['--reindex-chainstate']);
  assert.deepEqual(await digestAt(node, 107), before);
  await node.stop();

  rmSync(join(net, 'blocks', 'index'), { recursive: true });
  r = await start();
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /block index is missing.*--reindex /);
  await node.restart(['--reindex']);
  assert.deepEqual(await digestAt(node, 107), before);
  // The rebuilt index is whole: a plain restart needs nothing rebuilt and serves old blocks.
  await node.restart([]);
  assert.deepEqual(await digestAt(node, 107), before);
  const h1 = await node.rpc<string>('getblockhash', [1]);
  assert.equal((await node.rpc<{ height: number }>('getblock', [h1])).height, 1);
  assert.deepEqual(
    readdirSync(join(net, 'blocks'))
      .filter((f) => f.endsWith('.dat'))
      .sort(),
    ['blk00000.dat', 'rev00000.dat'],
  );
});

// Core's wallet upkeep methods against one real `tally node` (issue 15), with Core's parameters,
// results and error codes: importprunedfunds/removeprunedfunds (a transaction added with its
// gettxoutproof and no rescan, the proof checked against the block index).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { independentKey } from '../rpc/helpers.js';
import { rpcFails as fails, startNode, stopAll, walletRpc } from './cluster.js';

after(stopAll);

/** A hex proof with one byte changed (xor 1) at `offset`. */
function flip(hex: string, offset: number): string {
  const b = Buffer.from(hex, 'hex');
  b[offset] ^= 1;
  return b.toString('hex');
}

test('importprunedfunds adds a proven transaction without a rescan; removeprunedfunds takes it out', async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  await n.rpc('createwallet', ['miner']);
  const miner = walletRpc(n, 'miner');
  const mAddr = await miner<string>('getnewaddress');
  await miner('generatetoaddress', [101, mAddr]);
  const key = independentKey();
  const watched = independentKey();
  const toKey = await miner<string>('sendtoaddress', [key.address, 2]);
  const toWatched = await miner<string>('sendtoaddress', [watched.address, 3]);
  const toNobody = await miner<string>('sendtoaddress', [independentKey().address, 1]);
  const [block] = await miner<string[]>('generatetoaddress', [1, mAddr]);
  const raw = (txid: string) => n.rpc<string>('getrawtransaction', [txid, false, block]);
  const proof = (txid: string) => n.rpc<string>('gettxoutproof', [[txid]]);

  // The key and the watched address come without a rescan: the wallet has not seen their coins.
  await n.rpc('createwallet', ['pruned']);
  const w = walletRpc(n, 'pruned');
  await w('importprivkey', [key.wif, '', false]);
  await w('importaddress', [watched.address, '', false]);
  assert.equal(await w('getbalance', ['*', 0, true]), 0);

  const [rawKey, proofKey] = [await raw(toKey), await proof(toKey)];
  await assert.rejects(
    w('importprunedfunds', ['zz', proofKey]),
    fails(-22, /^TX decode failed. Make sure the tx has at least one input.$/),
  );
  await assert.rejects(
    w('importprunedfunds', [rawKey, 'zz']),
    fails(-8, /^proof must be hexadecimal string/),
  );
  await assert.rejects(w('importprunedfunds', [rawKey, '00']), fails(-1, /^Invalid proof/));
  // A hash of the partial tree changed: the root no longer matches the header's.
  await assert.rejects(
    w('importprunedfunds', [rawKey, flip(proofKey, 80 + 4 + 1)]),
    fails(-5, /^Something wrong with merkleblock$/),
  );
  // The header changed (its nonce): the tree still matches it, but no such block is in the chain.
  await assert.rejects(
    w('importprunedfunds', [rawKey, flip(proofKey, 76)]),
    fails(-5, /^Block not found in chain$/),
  );
  await assert.rejects(
    w('importprunedfunds', [await raw(toWatched), proofKey]),
    fails(-5, /^Transaction given doesn't exist in proof$/),
  );
  await assert.rejects(
    w('importprunedfunds', [await raw(toNobody), await proof(toNobody)]),
    fails(-5, /^No addresses in transaction correspond to your wallet$/),
  );
  assert.equal(await w('getbalance', ['*', 0, true]), 0);

  assert.equal(await w('importprunedfunds', [rawKey, proofKey]), null);
  assert.equal(await w('getbalance'), 2);
  const tx = await w<{ confirmations: number; blockhash: string; amount: number }>('gettransaction', [toKey]);
  assert.deepEqual([tx.confirmations, tx.blockhash, tx.amount], [1, block, 2]);
  assert.equal(await w('importprunedfunds', [await raw(toWatched), await proof(toWatched)]), null);
  const balances = await w<{ mine: { trusted: number }; watchonly: { trusted: number } }>('getbalances');
  assert.deepEqual([balances.mine.trusted, balances.watchonly.trusted], [2, 3]);
  // The imported coin spends.
  const spent = await w<string>('sendtoaddress', [mAddr, 1]);
  await miner('generatetoaddress', [1, mAddr]);
  assert.equal((await w<{ confirmations: number }>('gettransaction', [spent])).confirmations, 1);

  await assert.rejects(w('removeprunedfunds', ['zz']), fails(-8, /^txid must be of length 64/));
  assert.equal(await w('removeprunedfunds', [toWatched]), null);
  assert.equal((await w<{ watchonly: { trusted: number } }>('getbalances')).watchonly.trusted, 0);
  await assert.rejects(w('gettransaction', [toWatched, true]), fails(-5));
  await assert.rejects(
    w('removeprunedfunds', [toWatched]),
    fails(-4, new RegExp(`^Transaction ${toWatched} does not belong to this wallet$`)),
  );
  // Gone from the file too: a restart keeps it out (the wallet reloads at its saved tip).
  await n.restart();
  await n.rpc('loadwallet', ['pruned']).catch(() => undefined);
  const again = walletRpc(n, 'pruned');
  assert.equal((await again<{ watchonly: { trusted: number } }>('getbalances')).watchonly.trusted, 0);
});

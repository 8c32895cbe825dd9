// A reorg while a wallet is unloaded (issue 12), against real `tally node` processes: the wallet's
// node is reorganised by a heavier branch from a second node (mined while the two were apart) that
// orphans six of its coinbases and the block holding its send. `loadwallet` afterwards must replay
// the disconnects: the orphaned coinbases leave the balance, the send is pending again, and every
// coin `listunspent` shows is one `gettxout` knows, with the balance their sum. Then, with every
// kind of file a node writes in use (wallet, peers, banlist, mempool.dat, debug.log, cookie, lock,
// both optional indexes), the data directory holds only owner-only files and folders.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { openToOthers, startNode, stopAll, waitFor, waitSameTip } from './cluster.js';
import { checkedCoins, round, type Balances } from './wallet-coins.js';

after(() => stopAll());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

test('loadwallet after a reorg it missed drops orphaned coinbases; every file is owner-only', async () => {
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(9), getParams('regtest').prefixes);
  const a = await startNode({ args: ['--txindex', '--blockfilterindex'] });
  await a.rpc('createwallet', ['w']);
  const addr = await a.rpc<string>('getnewaddress');
  const b = await startNode({ args: ['--connect', a.p2pUrl] });
  // 110 blocks to the wallet, both nodes agree.
  await a.rpc('generatetoaddress', [110, addr]);
  await waitSameTip([a, b], 30_000);
  // Apart: b stops taking a's blocks and mines a heavier branch from height 104.
  const forkHash = await a.rpc<string>('getblockhash', [105]);
  await b.rpc('invalidateblock', [forkHash]);
  await b.stop();

  // a spends one of its mature coins, and it confirms in a's block 111 (to be orphaned too).
  const sent = await a.rpc<string>('sendtoaddress', [other, 7]);
  await a.rpc('generatetoaddress', [1, addr]);
  const beforeReorg = (await a.rpc<Balances>('getbalances')).mine;
  await a.rpc('unloadwallet', ['w']);

  await b.start();
  await b.rpc('generatetoaddress', [12, other]); // 104 + 12 = 116 > 111
  await b.rpc('reconsiderblock', [forkHash]);
  await b.rpc('addnode', [a.p2pUrl, 'onetry']);
  const tip = await waitSameTip([a, b], 30_000);
  assert.equal(await a.rpc<number>('getblockcount'), 116);
  await waitFor(
    async () => (await a.rpc<string[]>('getrawmempool')).includes(sent),
    20_000,
    'the send back in the pool',
  );

  await a.rpc('loadwallet', ['w']);
  const bal = (await a.rpc<Balances>('getbalances')).mine;
  // Coinbases of heights 1..104 remain the wallet's: mature at 101 confirmations, as Core
  // (tip 116: heights 1..16).
  const mature = 16;
  const immature = 104 - mature;
  assert.equal(bal.immature, immature * 50, JSON.stringify({ bal, beforeReorg }));
  assert.ok(bal.immature < beforeReorg.immature + beforeReorg.trusted);
  const tx = await a.rpc<{ confirmations: number }>('gettransaction', [sent]);
  assert.equal(tx.confirmations, 0);
  // What the wallet can spend is what the node's UTXO set and pool hold for it: the mature
  // coinbases less the one the send spent, plus the send's change.
  const coins = await checkedCoins(a);
  assert.equal(round(bal.trusted + bal.untrusted_pending), coins);
  assert.ok(coins < mature * 50 - 7 && coins > mature * 50 - 7 - 0.01, String(coins));
  assert.equal(await a.rpc<string>('getbestblockhash'), tip);

  // The same after a restart (the replay was saved).
  await a.rpc('setban', ['10.1.2.3', 'add', 600]);
  await a.restart();
  assert.equal(await checkedCoins(a), coins);
  assert.deepEqual((await a.rpc<Balances>('getbalances')).mine, bal);

  // Owner-only files everywhere in a used data directory (Core's umask 077).
  await Promise.all([a.stop(), b.stop()]);
  const files = [...new Set([...filesUnder(a.networkDir), ...filesUnder(b.networkDir)])];
  for (const want of [
    'wallets',
    'banlist.json',
    'mempool.dat',
    'debug.log',
    'chainstate',
    join('indexes', 'txindex'),
    join('indexes', 'blockfilter', 'basic'),
  ])
    assert.ok(files.includes(want), `no ${want} in ${files.join(' ')}`);
  assert.ok(
    files.some((f) => f.startsWith('wallets/') && f.length > 'wallets/'.length),
    files.join(' '),
  );
  assert.deepEqual(openToOthers(a.datadir), []);
  assert.deepEqual(openToOthers(b.datadir), []);
});

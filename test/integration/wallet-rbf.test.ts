// Replacement by fee across two real nodes (issue 15): a send at 1 sat/vB is bumped with
// `bumpfee`, the replacement relays to the second node (whose pool replaces the original too) and
// confirms there; a raw replacement paying less is refused with Core's "insufficient fee"; the fee
// ceiling refuses a send above maxtxfee in one line with the fee and how to allow it, and
// sendrawtransaction above maxfeerate likewise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, waitFor, waitSameTip } from './cluster.js';

after(stopAll);

interface WalletTx {
  confirmations: number;
  fee: number;
  hex: string;
  walletconflicts: string[];
  replaced_by_txid?: string;
  replaces_txid?: string;
  'bip125-replaceable': string;
}

test('bumpfee: the replacement relays, replaces at both pools and confirms; a lower-fee one is refused', async () => {
  const a = await startNode();
  const b = await startNode({ args: ['--connect', a.p2pUrl] });
  await a.rpc('createwallet', ['w']);
  const addr = await a.rpc<string>('getnewaddress');
  await a.rpc('generatetoaddress', [101, addr]);
  await waitSameTip([a, b], 30_000);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(9), getParams('regtest').prefixes);

  // The fee ceiling: 1,000,000 sat/vB on a ~225-byte send is ~2.25 coins, over maxtxfee 0.1.
  await assert.rejects(
    a.rpc('sendtoaddress', { address: other, amount: 0.01, fee_rate: 1_000_000 }),
    (e: Error & { code?: number }) => {
      assert.equal(e.code, -4);
      assert.match(
        e.message,
        /^Fee exceeds maximum configured by user \(e\.g\. -maxtxfee, maxfeerate\): this transaction would pay 2\.\d{8} coins, above maxtxfee 0\.10000000; .*maxtxfee/,
      );
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
  assert.equal((await a.rpc<{ fullrbf: boolean }>('getmempoolinfo')).fullrbf, true);

  const low = await a.rpc<string>('sendtoaddress', { address: other, amount: 1, fee_rate: 1 });
  await waitFor(async () => (await b.rpc<string[]>('getrawmempool')).includes(low), 20_000, 'the send at b');
  const before = await a.rpc<WalletTx>('gettransaction', [low]);
  assert.equal(before['bip125-replaceable'], 'yes');

  const bumped = await a.rpc<{ txid: string; origfee: number; fee: number; errors: string[] }>('bumpfee', [
    low,
  ]);
  assert.ok(bumped.fee > bumped.origfee, `fee ${bumped.fee} > origfee ${bumped.origfee}`);
  assert.deepEqual(bumped.errors, []);
  assert.deepEqual(await a.rpc<string[]>('getrawmempool'), [bumped.txid]);
  await waitFor(
    async () => (await b.rpc<string[]>('getrawmempool')).join() === bumped.txid,
    20_000,
    'the replacement, alone, at b',
  );
  assert.equal((await a.rpc<WalletTx>('gettransaction', [low])).replaced_by_txid, bumped.txid);
  // Core's mempoolconflicts: the pool transaction spending the original's inputs.
  assert.deepEqual((await a.rpc<{ mempoolconflicts: string[] }>('gettransaction', [low])).mempoolconflicts, [
    bumped.txid,
  ]);
  assert.equal((await a.rpc<WalletTx>('gettransaction', [bumped.txid])).replaces_txid, low);
  await assert.rejects(
    a.rpc('bumpfee', [low]),
    (e: Error & { code?: number }) => e.code === -4 && /already bumped/.test(e.message),
  );

  // A replacement of the replacement paying less (the original's fee) is refused: Core's reason.
  await assert.rejects(a.rpc('sendrawtransaction', [before.hex]), (e: Error & { code?: number }) => {
    assert.equal(e.code, -26);
    assert.match(e.message, /^insufficient fee/);
    return true;
  });
  // b mines: the replacement confirms, the original is conflicted in a's wallet.
  await b.rpc('generatetoaddress', [1, other]);
  await waitSameTip([a, b], 20_000);
  await waitFor(
    async () => (await a.rpc<WalletTx>('gettransaction', [bumped.txid])).confirmations === 1,
    10_000,
    'confirmed at a',
  );
  const orig = await a.rpc<WalletTx>('gettransaction', [low]);
  assert.equal(orig.confirmations, -1);
  assert.deepEqual(orig.walletconflicts, [bumped.txid]);
  await assert.rejects(
    a.rpc('bumpfee', [bumped.txid]),
    (e: Error & { code?: number }) => e.code === -4 && /has been mined/.test(e.message),
  );

  // sendrawtransaction's maxfeerate (0.10 coins/kB by default) names the fee and how to allow it.
  const coin = (await a.rpc<{ txid: string; vout: number; amount: number }[]>('listunspent'))[0];
  const raw = await a.rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [other]: coin.amount - 0.5 },
  ]);
  const signed = await a.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw]);
  await assert.rejects(a.rpc('sendrawtransaction', [signed.hex]), (e: Error & { code?: number }) => {
    assert.equal(e.code, -25);
    assert.match(
      e.message,
      /^Fee exceeds maximum configured by user \(e\.g\. -maxtxfee, maxfeerate\): fee 0\.50000000 for \d+ bytes .*pass a higher maxfeerate/,
    );
    return true;
  });
});

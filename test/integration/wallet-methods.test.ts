// Core's wallet methods against one real `tally node` (issue 15), each with Core's field names and
// error codes: received amounts by address and label, labels, sendmany, send, sendall, settxfee,
// locked coins (kept across unloadwallet/loadwallet when persistent), address groupings, the key
// pool, listsinceblock across a reorg (the transaction shows under "removed"), rescanblockchain and
// getwalletinfo's fields.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, rpcFails as fails } from './cluster.js';

after(stopAll);

interface Unspent {
  txid: string;
  vout: number;
  amount: number;
  address: string;
}
interface Entry {
  txid: string;
  category: string;
  amount: number;
}

test("Core's wallet methods against a real node", async () => {
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  const prefixes = getParams('regtest').prefixes;
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), prefixes);
  const other2 = encodeAddress('pubkeyhash', new Uint8Array(20).fill(4), prefixes);
  const addr = await n.rpc<string>('getnewaddress', ['mining']);
  await n.rpc('generatetoaddress', [101, addr]);

  // Received: only the one mature coinbase counts unless immature ones are asked for.
  assert.equal(await n.rpc('getreceivedbyaddress', [addr]), 50);
  assert.equal(await n.rpc('getreceivedbyaddress', [addr, 1, true]), 5050);
  await assert.rejects(n.rpc('getreceivedbyaddress', [other]), fails(-4, /Address not found in wallet/));
  await assert.rejects(n.rpc('getreceivedbyaddress', ['nonsense']), fails(-5));
  assert.equal(await n.rpc('getreceivedbylabel', ['mining']), 50);
  await assert.rejects(n.rpc('getreceivedbylabel', ['nope']), fails(-4, /Label not found/));
  const byAddr =
    await n.rpc<{ address: string; amount: number; label: string; txids: string[] }[]>(
      'listreceivedbyaddress',
    );
  assert.deepEqual(
    byAddr.map((x) => [x.address, x.amount, x.label, x.txids.length]),
    [[addr, 50, 'mining', 1]],
  );
  const friend = await n.rpc<string>('getnewaddress', ['friend']);
  assert.equal((await n.rpc<unknown[]>('listreceivedbyaddress', [1, true])).length, 2);
  assert.deepEqual(await n.rpc('listreceivedbylabel'), [{ amount: 50, confirmations: 101, label: 'mining' }]);
  assert.deepEqual(await n.rpc('getaddressesbylabel', ['mining']), { [addr]: { purpose: 'receive' } });
  await assert.rejects(n.rpc('getaddressesbylabel', ['nope']), fails(-11, /No addresses with label nope/));
  assert.deepEqual(await n.rpc('listlabels'), ['friend', 'mining']);

  // sendmany, its errors, settxfee, send.
  await assert.rejects(n.rpc('sendmany', ['x', { [other]: 1 }]), fails(-8, /Dummy value/));
  await assert.rejects(n.rpc('sendmany', ['', { nonsense: 1 }]), fails(-5));
  // An address of another network says which one.
  const mainAddr = encodeAddress('pubkeyhash', new Uint8Array(20).fill(5), getParams('main').prefixes);
  await assert.rejects(
    n.rpc('sendtoaddress', [mainAddr, 1]),
    fails(-5, /^Invalid Tally address: it is an address of Tally's main network \(--network main\)$/),
  );
  await assert.rejects(n.rpc('sendmany', ['', { [other]: 0 }]), fails(-3));
  await assert.rejects(n.rpc('sendmany', ['', { [other]: 1000 }]), fails(-6));
  const many = await n.rpc<{ txid: string; fee_reason: string }>('sendmany', {
    dummy: '',
    amounts: { [other]: 1, [friend]: 2 },
    fee_rate: 3,
    verbose: true,
  });
  assert.equal(many.fee_reason, 'Fee rate');
  const manyTx = await n.rpc<{ details: { category: string; amount: number; address: string }[] }>(
    'gettransaction',
    [many.txid],
  );
  assert.deepEqual(
    manyTx.details
      .filter((d) => d.category === 'send')
      .map((d) => [d.address, d.amount])
      .sort(),
    [
      [friend, -2],
      [other, -1],
    ].sort(),
  );
  assert.equal(await n.rpc('getunconfirmedbalance'), 0);
  await assert.rejects(n.rpc('settxfee', [5]), fails(-8, /more than wallet max tx fee/));
  assert.equal(await n.rpc('settxfee', [0.0002]), true);
  assert.equal((await n.rpc<{ paytxfee: number }>('getwalletinfo')).paytxfee, 0.0002);
  const paid = await n.rpc<{ fee_reason: string }>('sendtoaddress', {
    address: other,
    amount: 0.5,
    verbose: true,
  });
  assert.equal(paid.fee_reason, 'PayTxFee set');
  const sent = await n.rpc<{ complete: boolean; txid: string }>('send', [[{ [other2]: 0.25 }]]);
  assert.equal(sent.complete, true);
  const hashBefore = await n.rpc<string>('getbestblockhash');
  await n.rpc('generatetoaddress', [1, other]);

  // Groupings: the coins spent together and their change are one group.
  const groups = await n.rpc<[string, number, string?][][]>('listaddressgroupings');
  const withAddr = groups.find((g) => g.some(([a]) => a === addr))!;
  assert.ok(withAddr.length >= 2, JSON.stringify(groups));

  // Locked coins: sendall spends all but the locked one; the persistent lock survives a reload.
  const coins = await n.rpc<Unspent[]>('listunspent');
  const keep = coins.find((c) => c.amount === 50)!;
  await assert.rejects(
    n.rpc('lockunspent', [false, [{ txid: keep.txid, vout: 99 }]]),
    fails(-8, /out of bounds/),
  );
  assert.equal(await n.rpc('lockunspent', [false, [{ txid: keep.txid, vout: keep.vout }], true]), true);
  // As Core (AvailableCoins skips locked coins): listunspent leaves a locked coin out.
  const key = (c: Unspent) => `${c.txid}:${c.vout}`;
  assert.ok(!(await n.rpc<Unspent[]>('listunspent')).some((c) => key(c) === key(keep)));
  await assert.rejects(
    n.rpc('lockunspent', [false, [{ txid: keep.txid, vout: keep.vout }]]),
    fails(-8, /already locked/),
  );
  await n.rpc('unloadwallet', ['w']);
  await n.rpc('loadwallet', ['w']);
  assert.deepEqual(await n.rpc('listlockunspent'), [{ txid: keep.txid, vout: keep.vout }]);
  await assert.rejects(n.rpc('sendall', [[{ [other]: 1 }]]), fails(-4, /without a specified amount/));
  const all = await n.rpc<{ complete: boolean; txid: string }>('sendall', [[other2]]);
  assert.equal(all.complete, true);
  assert.deepEqual(await n.rpc<Unspent[]>('listunspent', [0]), []);
  assert.equal(await n.rpc('lockunspent', [true]), true);
  assert.deepEqual(await n.rpc('listlockunspent'), []);
  assert.deepEqual((await n.rpc<Unspent[]>('listunspent', [0])).map(key), [key(keep)]);

  // listsinceblock: the sends since hashBefore; after the block holding sendall is invalidated,
  // listsinceblock from that block lists it under "removed".
  await n.rpc('generatetoaddress', [1, other]);
  const tip = await n.rpc<string>('getbestblockhash');
  const since = await n.rpc<{ transactions: Entry[]; removed: Entry[]; lastblock: string }>(
    'listsinceblock',
    [hashBefore],
  );
  assert.equal(since.lastblock, tip);
  assert.ok(since.transactions.some((e) => e.txid === all.txid && e.category === 'send'));
  assert.ok(
    since.transactions.some((e) => e.txid === many.txid),
    'confirmed in the block after hashBefore',
  );
  await assert.rejects(n.rpc('listsinceblock', ['00'.repeat(32)]), fails(-5, /Block not found/));
  await n.rpc('invalidateblock', [tip]);
  const afterReorg = await n.rpc<{ transactions: Entry[]; removed: Entry[] }>('listsinceblock', [tip]);
  assert.ok(
    afterReorg.removed.some((e) => e.txid === all.txid),
    JSON.stringify(afterReorg.removed),
  );
  await n.rpc('reconsiderblock', [tip]);

  // Key pool, rescan, getwalletinfo.
  await n.rpc('keypoolrefill', [100]);
  const info = await n.rpc<Record<string, unknown>>('getwalletinfo');
  assert.ok((info.keypoolsize as number) >= 100);
  for (const k of ['paytxfee', 'avoid_reuse', 'scanning', 'descriptors', 'blank', 'lastprocessedblock'])
    assert.ok(k in info, k);
  assert.equal(await n.rpc('newkeypool'), null);
  const height = await n.rpc<number>('getblockcount');
  assert.deepEqual(await n.rpc('rescanblockchain', [0]), { start_height: 0, stop_height: height });
  assert.equal(await n.rpc('abortrescan'), false);
  // Coinbases with more than 100 confirmations: heights 1 .. height - 100.
  assert.equal(await n.rpc('getreceivedbylabel', ['mining']), 50 * (height - 100));

  // Messages and keys: signmessage verifies, and so does signmessagewithprivkey with dumpprivkey's WIF.
  const sig = await n.rpc<string>('signmessage', [addr, 'hello']);
  assert.equal(await n.rpc('verifymessage', [addr, sig, 'hello']), true);
  assert.equal(await n.rpc('verifymessage', [addr, sig, 'hullo']), false);
  await assert.rejects(n.rpc('verifymessage', [addr, '!!', 'hello']), fails(-3, /Malformed base64/));
  await assert.rejects(n.rpc('verifymessage', ['nonsense', sig, 'hello']), fails(-5, /Invalid address/));
  await assert.rejects(n.rpc('signmessage', [other, 'hello']), fails(-4, /Private key not available/));
  const wif = await n.rpc<string>('dumpprivkey', [addr]);
  assert.equal(await n.rpc('signmessagewithprivkey', [wif, 'hello']), sig);
  await assert.rejects(
    n.rpc('signmessagewithprivkey', ['nonsense', 'hello']),
    fails(-5, /Invalid private key/),
  );
  await assert.rejects(n.rpc('dumpprivkey', [other]), fails(-4, /is not known/));
  const pubkeys = await Promise.all(
    [addr, friend].map(async (a) => (await n.rpc<{ pubkey: string }>('getaddressinfo', [a])).pubkey),
  );
  const ms = await n.rpc<{ address: string; redeemScript: string }>('createmultisig', [2, pubkeys]);
  assert.match(ms.redeemScript, new RegExp(`^52(21${pubkeys[0]})(21${pubkeys[1]})52ae$`));
  assert.equal((await n.rpc<{ isscript: boolean }>('validateaddress', [ms.address])).isscript, true);
  await assert.rejects(n.rpc('createmultisig', [3, pubkeys]), fails(-8, /not enough keys supplied/));
  await assert.rejects(n.rpc('createmultisig', [1, ['02ff']]), fails(-5, /Invalid public key/));
});

// gettxoutsetinfo as Core v29's, on the RPC fixture's regtest chain (103 blocks, one spend, a
// sibling of the tip) with a real coinstatsindex: the field names and types of both of Core's
// result shapes (kept as data below, from Core's help text), hash_serialized_3 and muhash equal to
// a computation in this test written apart from src (coins collected from the blocks, sorted by
// txid and index, Core's TxOutSer by hand), the index's figures at a height and its block_info,
// the set reached two ways (a reorg to the sibling and back) giving the same digests, and Core's
// error codes and messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSnapshot } from '../../src/chain/utxo-snapshot.js';
import { openIndex } from '../../src/index/base.js';
import { coinStatsIndexFor, type CoinStatsIndex } from '../../src/index/coinstats.js';
import { indexChainAdapter } from '../../src/node/adapters.js';
import { MuHash3072 } from '../../src/crypto/muhash.js';
import type { Block } from '../../src/primitives/block.js';
import { bytesToHex, reverseHex } from '../../src/primitives/bytes.js';
import { rpcCode as code } from './helpers.js';
import { stringifyJson } from '../../src/rpc/json.js';
import { RpcServer } from '../../src/rpc/server.js';
import { registerUtxoMethods } from '../../src/rpc/utxo-methods.js';
import { rollbackChanges } from '../../src/rpc/snapshot-rollback.js';
import { descriptorChecksum } from '../../src/rpc/descriptor.js';
import { encodeWif, scriptToAddress } from '../../src/primitives/address.js';
import { TEST_KEY } from '../chain/builder.js';
import { type NodeFixture, openNodeFixture, params } from './node-fixture.js';

// Core v29's RPCResult for gettxoutsetinfo: the fields and JSON types of each shape.
const CORE_SCAN_FIELDS = {
  height: 'number',
  bestblock: 'string',
  txouts: 'number',
  bogosize: 'number',
  hash_serialized_3: 'string',
  total_amount: 'number',
  transactions: 'number',
  disk_size: 'number',
};
const CORE_INDEX_FIELDS = {
  height: 'number',
  bestblock: 'string',
  txouts: 'number',
  bogosize: 'number',
  muhash: 'string',
  total_amount: 'number',
  total_unspendable_amount: 'number',
  block_info: 'object',
};
const CORE_BLOCK_INFO = [
  'prevout_spent',
  'coinbase',
  'new_outputs_ex_coinbase',
  'unspendable',
  'unspendables',
];
const CORE_UNSPENDABLES = ['genesis_block', 'bip30', 'scripts', 'unclaimed_rewards'];
// Core v29's scantxoutset "start" result and its unspents, in order.
const CORE_SCAN_RESULT = ['success', 'txouts', 'height', 'bestblock', 'unspents', 'total_amount'];
const CORE_SCAN_UNSPENT = {
  txid: 'string',
  vout: 'number',
  scriptPubKey: 'string',
  desc: 'string',
  amount: 'number',
  coinbase: 'boolean',
  height: 'number',
  blockhash: 'string',
  confirmations: 'number',
};

let f: NodeFixture;
let index: CoinStatsIndex;
let withIndex: RpcServer;
before(async () => {
  f = await openNodeFixture();
  index = await openIndex(coinStatsIndexFor(params), join(f.dir, 'coinstats'), indexChainAdapter(f.chain));
  await index.start();
  await index.whenIdle();
  withIndex = new RpcServer({ port: 0, auth: { cookieDir: f.dir }, authFailDelayMs: 1 });
  registerUtxoMethods(withIndex, {
    chain: f.chain,
    prefixes: params.prefixes,
    datadir: f.dir,
    networkMagic: params.magic,
    chainstateDir: join(f.dir, 'chain'),
    coinStats: index,
  });
});
after(async () => {
  await index.close();
  await f.close();
});

type Obj = Record<string, unknown>;
const plain = (method: string, p: unknown[] = []) => f.rpc(method, p) as Promise<Obj>;
const indexed = async (method: string, p: unknown[] = []) =>
  JSON.parse(stringifyJson(await withIndex.call(method, p, '/'))) as Obj;

/** The UTXO set after `blocks` (from height 1), computed here from the blocks alone. */
function coinsAfter(blocks: Block[]) {
  const coins = new Map<
    string,
    { txid: Buffer; n: number; value: bigint; script: Uint8Array; h: number; cb: boolean }
  >();
  blocks.forEach((b, i) => {
    const h = i + 1;
    b.txs.forEach((tx, t) => {
      if (t > 0)
        for (const inp of tx.inputs) coins.delete(`${bytesToHex(inp.prevout.hash)}:${inp.prevout.index}`);
      tx.outputs.forEach((o, n) => {
        if (o.scriptPubKey[0] === 0x6a) return;
        const txid = Buffer.from(tx.txid());
        coins.set(`${txid.toString('hex')}:${n}`, {
          txid,
          n,
          value: o.value,
          script: o.scriptPubKey,
          h,
          cb: t === 0,
        });
      });
    });
  });
  const sorted = [...coins.values()].sort((a, b) => Buffer.compare(a.txid, b.txid) || a.n - b.n);
  const ser = sorted.map((c) => {
    const head = Buffer.alloc(36 + 4 + 8);
    c.txid.copy(head, 0);
    head.writeUInt32LE(c.n, 32);
    head.writeUInt32LE(c.h * 2 + (c.cb ? 1 : 0), 36);
    head.writeBigInt64LE(c.value, 40);
    assert.ok(c.script.length < 0xfd);
    return Buffer.concat([head, Buffer.of(c.script.length), c.script]);
  });
  const sha = (b: Buffer) => createHash('sha256').update(b).digest();
  const mu = new MuHash3072();
  for (const s of ser) mu.insert(s);
  return {
    coins: sorted,
    txouts: sorted.length,
    transactions: new Set(sorted.map((c) => c.txid.toString('hex'))).size,
    total: sorted.reduce((t, c) => t + c.value, 0n),
    bogosize: sorted.reduce((t, c) => t + 50 + c.script.length, 0),
    hashSerialized3: Buffer.from(sha(sha(Buffer.concat(ser))))
      .reverse()
      .toString('hex'),
    muhash: reverseHex(mu.digest()),
  };
}

/** A snapshot's coins and coinsAfter's, as comparable rows. */
const snapshotRows = (coins: ReturnType<typeof decodeSnapshot>['coins']) =>
  coins.map(([op, c]) => [
    bytesToHex(op.hash),
    op.index,
    c.value,
    bytesToHex(c.script),
    c.height,
    c.coinbase,
  ]);
const wantRows = (coins: ReturnType<typeof coinsAfter>['coins']) =>
  coins.map((c) => [c.txid.toString('hex'), c.n, c.value, bytesToHex(c.script), c.h, c.cb]);

const shape = (o: Obj) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]));

test('gettxoutsetinfo without the index: Core fields, hash_serialized_3 and muhash as computed apart', async () => {
  const want = coinsAfter(f.blocks.slice(1));
  const info = await plain('gettxoutsetinfo');
  assert.deepEqual(shape(info), CORE_SCAN_FIELDS);
  assert.equal(info.height, 103);
  assert.equal(info.bestblock, f.blocks[103].hashHex());
  assert.equal(info.txouts, want.txouts);
  assert.equal(info.transactions, want.transactions);
  assert.equal(info.bogosize, want.bogosize);
  assert.equal(info.total_amount, Number(want.total) / 1e8);
  assert.equal(info.hash_serialized_3, want.hashSerialized3);
  assert.ok((info.disk_size as number) > 0);
  const mu = await plain('gettxoutsetinfo', ['muhash']);
  assert.equal(mu.muhash, want.muhash);
  assert.equal(mu.hash_serialized_3, undefined);
  const none = await plain('gettxoutsetinfo', ['none']);
  assert.equal(none.muhash ?? none.hash_serialized_3, undefined);
  assert.equal(none.txouts, want.txouts);
});

test('gettxoutsetinfo with coinstatsindex: Core fields, the same muhash, figures at any height', async () => {
  const tip = await indexed('gettxoutsetinfo', ['muhash']);
  assert.deepEqual(shape(tip), CORE_INDEX_FIELDS);
  const info = tip.block_info as Obj;
  assert.deepEqual(Object.keys(info), CORE_BLOCK_INFO);
  assert.deepEqual(Object.keys(info.unspendables as Obj), CORE_UNSPENDABLES);
  assert.equal(tip.muhash, (await plain('gettxoutsetinfo', ['muhash'])).muhash);
  // hash_serialized_3 is never from the index: Core scans and gives transactions and disk_size.
  assert.deepEqual(shape(await indexed('gettxoutsetinfo')), CORE_SCAN_FIELDS);
  // use_index=false scans as without the index.
  const { hash_serialized_3: _, ...scanned } = CORE_SCAN_FIELDS;
  assert.deepEqual(shape(await indexed('gettxoutsetinfo', ['muhash', null, false])), {
    ...scanned,
    muhash: 'string',
  });

  for (const h of [1, 50, 101, 102]) {
    const want = coinsAfter(f.blocks.slice(1, h + 1));
    const byHeight = await indexed('gettxoutsetinfo', ['muhash', h]);
    assert.equal(byHeight.muhash, want.muhash, `height ${h}`);
    assert.equal(byHeight.txouts, want.txouts);
    assert.equal(byHeight.bogosize, want.bogosize);
    assert.equal(byHeight.total_amount, Number(want.total) / 1e8);
    assert.deepEqual(await indexed('gettxoutsetinfo', ['muhash', f.blocks[h].hashHex()]), byHeight);
  }
  // Genesis: its 50 coins are unspendable, nothing is in the set.
  const g = await indexed('gettxoutsetinfo', ['none', 0]);
  assert.equal(g.txouts, 0);
  assert.equal(g.total_unspendable_amount, 50);
  assert.equal(((g.block_info as Obj).unspendables as Obj).genesis_block, 50);
  // Block 102 spends block 1's 50 coins, pays 40 - fee and 10 onward and a 50 + fee coinbase.
  const b = (await indexed('gettxoutsetinfo', ['none', 102])).block_info as Obj;
  assert.deepEqual(
    { ...b, unspendables: undefined },
    {
      prevout_spent: 50,
      coinbase: 50.0001,
      new_outputs_ex_coinbase: 49.9999,
      unspendable: 0,
      unspendables: undefined,
    },
  );
});

test('gettxoutsetinfo: the set reached two ways (a reorg to the sibling and back) hashes the same', async () => {
  const before103 = await indexed('gettxoutsetinfo', ['muhash']);
  const serialized = (await plain('gettxoutsetinfo')).hash_serialized_3;
  await f.chain.invalidateBlock(f.blocks[103].hashHex());
  assert.equal(f.chain.tip.hashHex, f.sibling.hashHex());
  await index.whenIdle();
  const side = await indexed('gettxoutsetinfo', ['muhash']);
  assert.equal(side.bestblock, f.sibling.hashHex());
  assert.equal(side.muhash, coinsAfter([...f.blocks.slice(1, 103), f.sibling]).muhash);
  assert.notEqual(side.muhash, before103.muhash);
  // Back: 103 made valid again, the sibling (as heavy, so kept as the tip) invalidated.
  await f.chain.reconsiderBlock(f.blocks[103].hashHex());
  await f.chain.invalidateBlock(f.sibling.hashHex());
  assert.equal(f.chain.tip.hashHex, f.blocks[103].hashHex());
  await index.whenIdle();
  assert.deepEqual(await indexed('gettxoutsetinfo', ['muhash']), before103);
  assert.equal((await plain('gettxoutsetinfo')).hash_serialized_3, serialized);
  // The branch left behind keeps its entry (Core's hash-keyed copy).
  assert.equal((await indexed('gettxoutsetinfo', ['muhash', f.sibling.hashHex()])).muhash, side.muhash);
});

test("gettxoutsetinfo: Core's errors", async () => {
  await assert.rejects(
    plain('gettxoutsetinfo', ['foo hash']),
    code(-8, "'foo hash' is not a valid hash_type"),
  );
  await assert.rejects(
    plain('gettxoutsetinfo', ['muhash', 1]),
    code(-8, 'Querying specific block heights requires coinstatsindex'),
  );
  await assert.rejects(
    indexed('gettxoutsetinfo', ['hash_serialized_3', 1]),
    code(-8, 'hash_serialized_3 hash type cannot be queried for a specific block'),
  );
  await assert.rejects(
    indexed('gettxoutsetinfo', ['muhash', 1, false]),
    code(-8, 'Cannot set use_index to false when querying for a specific block'),
  );
  await assert.rejects(
    indexed('gettxoutsetinfo', ['none', -1]),
    code(-8, 'Target block height -1 is negative'),
  );
  await assert.rejects(
    indexed('gettxoutsetinfo', ['none', 104]),
    code(-8, 'Target block height 104 after current tip 103'),
  );
  await assert.rejects(indexed('gettxoutsetinfo', ['none', '11'.repeat(32)]), code(-5, 'Block not found'));
  await assert.rejects(indexed('gettxoutsetinfo', ['none', true]), code(-3));
  await assert.rejects(plain('gettxoutsetinfo', [1]), code(-3));
});

const withSum = (d: string) => `${d}#${descriptorChecksum(d)}`;

test("scantxoutset: pkh, combo (WIF), raw and addr descriptors find the coins computed apart, in Core's shape", async () => {
  const pub = bytesToHex(f.builder.pub);
  const set = coinsAfter(f.blocks.slice(1));
  const builderCoins = set.coins.filter(
    (c) => Buffer.compare(Buffer.from(c.script), Buffer.from(f.builder.script)) === 0,
  );
  const r = await plain('scantxoutset', ['start', [`pkh(${pub})`]]);
  assert.deepEqual(Object.keys(r), CORE_SCAN_RESULT);
  assert.equal(r.success, true);
  assert.equal(r.txouts, set.txouts);
  assert.equal(r.height, 103);
  assert.equal(r.bestblock, f.blocks[103].hashHex());
  const unspents = r.unspents as Obj[];
  assert.equal(unspents.length, builderCoins.length);
  assert.equal(r.total_amount, Number(builderCoins.reduce((t, c) => t + c.value, 0n)) / 1e8);
  for (const u of unspents) {
    assert.deepEqual(Object.keys(u), Object.keys(CORE_SCAN_UNSPENT));
    assert.deepEqual(shape(u), CORE_SCAN_UNSPENT);
    assert.equal(u.desc, withSum(`pkh(${pub})`));
    assert.equal(u.blockhash, f.blocks[u.height as number].hashHex());
    assert.equal(u.confirmations, 103 - (u.height as number) + 1);
  }
  // Core's order: by txid (internal bytes), then vout.
  assert.deepEqual(
    unspents.map((u) => `${u.txid as string}:${u.vout as number}`),
    builderCoins.map((c) => `${Buffer.from(c.txid).reverse().toString('hex')}:${c.n}`),
  );
  const spendOut = unspents.find((u) => u.txid === f.spendTx.txidHex())!;
  assert.equal(spendOut.coinbase, false);
  assert.equal(spendOut.height, 102);

  // combo() of the same key as WIF: P2PK (none here) and P2PKH, the same coins.
  const wif = encodeWif(TEST_KEY, true, params.prefixes);
  const combo = await plain('scantxoutset', ['start', [{ desc: `combo(${wif})` }]]);
  assert.deepEqual(combo.unspents, unspents);
  // raw() of the script: the key is not known, so Core infers addr().
  const raw = await plain('scantxoutset', ['start', [withSum(`raw(${bytesToHex(f.builder.script)})`)]]);
  const builderAddress = scriptToAddress(f.builder.script, params.prefixes)!;
  assert.equal((raw.unspents as Obj[]).length, unspents.length);
  assert.ok((raw.unspents as Obj[]).every((u) => u.desc === withSum(`addr(${builderAddress})`)));
  // addr() of the wallet's address: its one 10-coin output.
  const a = await plain('scantxoutset', ['start', [withSum(`addr(${f.walletAddress})`), `pk(${pub})`]]);
  assert.equal((a.unspents as Obj[]).length, 1);
  assert.equal(a.total_amount, 10);
});

test("scantxoutset: one scan at a time, status and abort, and Core's errors", async () => {
  assert.equal(await plain('scantxoutset', ['status']), null);
  assert.equal(await plain('scantxoutset', ['abort']), false);
  const pkh = `pkh(${bytesToHex(f.builder.pub)})`;
  const first = plain('scantxoutset', ['start', [pkh]]);
  const second = plain('scantxoutset', ['start', [pkh]]);
  const status = plain('scantxoutset', ['status']);
  const abort = plain('scantxoutset', ['abort']);
  await assert.rejects(second, code(-8, 'Scan already in progress, use action "abort" or "status"'));
  assert.deepEqual(Object.keys(await status), ['progress']);
  assert.equal(await abort, true);
  const aborted = await first;
  assert.equal(aborted.success, false);
  assert.deepEqual(aborted.unspents, []);
  assert.equal(await plain('scantxoutset', ['status']), null);

  await assert.rejects(plain('scantxoutset', ['begin']), code(-8, "Invalid action 'begin'"));
  await assert.rejects(
    plain('scantxoutset', ['start']),
    code(-1, 'scanobjects argument is required for the start action'),
  );
  await assert.rejects(
    plain('scantxoutset', ['start', [`${pkh}#aaaaaaaa`]]),
    code(-5, `Provided checksum 'aaaaaaaa' does not match computed checksum '${descriptorChecksum(pkh)}'`),
  );
  await assert.rejects(plain('scantxoutset', ['start', [`wpkh(${bytesToHex(f.builder.pub)})`]]), code(-5));
  await assert.rejects(plain('scantxoutset', ['start', ['pkh(02aa)']]), code(-5));
  await assert.rejects(
    plain('scantxoutset', ['start', ['addr(1BoatSLRHtKNngkdXEeobR76b53LETtpyT)']]),
    code(-5),
  );
  // Core ignores a range given with an unranged descriptor, but checks it first.
  assert.equal((await plain('scantxoutset', ['start', [{ desc: pkh, range: 10 }]])).success, true);
  await assert.rejects(
    plain('scantxoutset', ['start', [{ desc: pkh, range: [3, 1] }]]),
    code(-8, 'Range specified as [begin,end] must not have begin after end'),
  );
  await assert.rejects(plain('scantxoutset', ['start', [7]]), code(-8));
  // A refused start leaves no scan behind.
  assert.equal(await plain('scantxoutset', ['status']), null);
});

test('dumptxoutset rollback: the set at an earlier block from the undo data, the chain left where it was', async () => {
  // Height 101: before block 102's spend (its coins come back) and the coinbases of 102 and 103.
  for (const [name, at, rollback] of [
    ['r101.dat', 101, 101],
    ['r102.dat', 102, f.blocks[102].hashHex()],
  ] as const) {
    const want = coinsAfter(f.blocks.slice(1, at + 1));
    const r = await plain('dumptxoutset', [name, '', { rollback }]);
    assert.equal(r.base_height, at);
    assert.equal(r.base_hash, f.blocks[at].hashHex());
    assert.equal(r.coins_written, want.txouts);
    assert.equal(r.txoutset_hash, want.hashSerialized3);
    assert.equal(r.nchaintx, at + 1 + (at >= 102 ? 1 : 0));
    assert.deepEqual(
      snapshotRows(decodeSnapshot(readFileSync(r.path as string), params.magic).coins),
      wantRows(want.coins),
    );
  }
  // type "rollback" with the option, and the tip's height: the same as "latest".
  const atTip = await plain('dumptxoutset', ['r103.dat', 'rollback', { rollback: 103 }]);
  assert.equal(atTip.txoutset_hash, coinsAfter(f.blocks.slice(1)).hashSerialized3);
  assert.equal((await plain('getblockchaininfo')).bestblockhash, f.blocks[103].hashHex());
  assert.equal((await plain('gettxoutsetinfo')).height, 103);

  const fails: [unknown[], number, string][] = [
    [
      ['x.dat', 'latest', { rollback: 5 }],
      -8,
      'Invalid snapshot type "latest" specified with rollback option',
    ],
    [['x.dat', '', { rollback: 104 }], -8, 'Target block height 104 after current tip 103'],
    [['x.dat', '', { rollback: -1 }], -8, 'Target block height -1 is negative'],
    [['x.dat', '', { rollback: '00'.repeat(32) }], -5, 'Block not found'],
    [['x.dat', '', { rollback: f.sibling.hashHex() }], -1, 'Could not roll back to requested height.'],
  ];
  for (const [p, c, message] of fails) await assert.rejects(plain('dumptxoutset', p), code(c, message));
  await assert.rejects(plain('dumptxoutset', ['x.dat', 'rollback']), code(-8, /no snapshot heights/));
  // The difference held in memory is bounded: 2 blocks back change more than 3 coins.
  await assert.rejects(
    rollbackChanges(f.chain, f.chain.getEntryAtHeight(103)!, f.chain.getEntryAtHeight(101)!, 3),
    { name: 'RollbackError', message: /more than 3 coin changes/ },
  );
  assert.equal(existsSync(join(f.dir, 'x.dat')), false);
});

test("dumptxoutset: Core's snapshot of the set, its fields and errors; loadtxoutset refuses it as Core", async () => {
  const r = await plain('dumptxoutset', ['utxo.dat', 'latest']);
  assert.deepEqual(Object.keys(r), [
    'coins_written',
    'base_hash',
    'base_height',
    'path',
    'txoutset_hash',
    'nchaintx',
  ]);
  const info = await plain('gettxoutsetinfo');
  assert.equal(r.coins_written, info.txouts);
  assert.equal(r.base_hash, f.blocks[103].hashHex());
  assert.equal(r.base_height, 103);
  assert.equal(r.path, join(f.dir, 'utxo.dat'));
  assert.equal(r.txoutset_hash, info.hash_serialized_3);
  // Genesis, 103 coinbases and block 102's spend.
  assert.equal(r.nchaintx, 105);
  const { metadata, coins } = decodeSnapshot(readFileSync(r.path), params.magic);
  assert.equal(reverseHex(metadata.baseHash), r.base_hash);
  assert.deepEqual(snapshotRows(coins), wantRows(coinsAfter(f.blocks.slice(1)).coins));
  assert.equal(existsSync(`${r.path}.incomplete`), false);

  await assert.rejects(
    plain('dumptxoutset', ['utxo.dat', 'latest']),
    code(-8, `${r.path} already exists. If you are sure this is what you want, move it out of the way first`),
  );
  await assert.rejects(
    plain('dumptxoutset', ['other.dat']),
    code(-8, 'Invalid snapshot type "" specified. Please specify "rollback" or "latest"'),
  );
  await assert.rejects(plain('dumptxoutset', ['other.dat', 'rollback']), code(-8));
  assert.equal(existsSync(join(f.dir, 'other.dat')), false);

  await assert.rejects(
    plain('loadtxoutset', ['utxo.dat']),
    code(
      -32603,
      `Unable to load UTXO snapshot: assumeutxo block hash in snapshot metadata not recognized (hash: ${r.base_hash}). The following snapshot heights are available: . (${r.path})`,
    ),
  );
  await assert.rejects(
    plain('loadtxoutset', ['missing.dat']),
    code(-8, `Couldn't open file ${join(f.dir, 'missing.dat')} for reading.`),
  );
  writeFileSync(join(f.dir, 'junk.dat'), 'not a snapshot at all, just some text long enough');
  await assert.rejects(
    plain('loadtxoutset', ['junk.dat']),
    (e: unknown) =>
      code(-22)(e) &&
      /^Unable to parse metadata: Invalid UTXO set snapshot magic bytes/.test((e as Error).message),
  );
  writeFileSync(join(f.dir, 'short.dat'), readFileSync(r.path).subarray(0, 20));
  await assert.rejects(plain('loadtxoutset', ['short.dat']), code(-22));
});

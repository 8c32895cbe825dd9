import { descriptorChecksum } from '../../src/rpc/descriptor.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rpcCode as code } from './helpers.js';
import { difficultyFromBits } from '../../src/rpc/chain-json.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { type NodeFixture, openNodeFixture, params } from './node-fixture.js';

let f: NodeFixture;
before(async () => {
  f = await openNodeFixture();
});
after(async () => {
  await f.close();
});

const call = (method: string, p: unknown[] | Record<string, unknown> = []) => f.rpc(method, p);
type Obj = Record<string, unknown>;

test('getblockcount, getbestblockhash, getblockhash (-8 out of range, -3 wrong type)', async () => {
  assert.equal(await call('getblockcount'), 103);
  assert.equal(await call('getbestblockhash'), f.blocks[103].hashHex());
  assert.equal(await call('getblockhash', [0]), params.genesis.hashHex());
  assert.equal(await call('getblockhash', { height: 102 }), f.blocks[102].hashHex());
  await assert.rejects(
    call('getblockhash', [104]),
    (e: unknown) => code(-8)(e) && /Block height out of range/.test((e as Error).message),
  );
  await assert.rejects(call('getblockhash', [-1]), code(-8));
  await assert.rejects(call('getblockhash', ['1']), code(-3));
  // Core: a missing argument is -1 with the method's help; null where one is required is -3.
  await assert.rejects(
    call('getblockhash'),
    (e: unknown) => code(-1)(e) && /^getblockhash height\n/.test((e as Error).message),
  );
  await assert.rejects(
    call('getblockhash', [null]),
    (e: unknown) => code(-3)(e) && /Position 1 \(height\)/.test((e as Error).message),
  );
  await assert.rejects(call('getblockhash', [1, 2]), code(-1));
});

test('getdifficulty and getblockchaininfo', async () => {
  const d = (await call('getdifficulty')) as number;
  assert.equal(d, difficultyFromBits(params.powLimitBits));
  assert.equal(difficultyFromBits(0x1d00ffff), 1);
  assert.ok(Math.abs(difficultyFromBits(0x207fffff) - 4.656542373906925e-10) < 1e-20);
  const info = (await call('getblockchaininfo')) as Obj;
  assert.equal(info.chain, 'regtest');
  assert.equal(info.blocks, 103);
  assert.equal(info.headers, 103);
  assert.equal(info.bestblockhash, f.blocks[103].hashHex());
  assert.equal(info.difficulty, d);
  assert.equal(info.bits, '207fffff');
  assert.equal(info.target, '7fffff' + '0'.repeat(58));
  assert.equal(info.time, f.blocks[103].header.time);
  assert.equal(info.mediantime, f.chain.medianTimePast());
  assert.equal(info.verificationprogress, 1);
  assert.equal(info.initialblockdownload, false);
  assert.match(info.chainwork as string, /^[0-9a-f]{64}$/);
  assert.equal(BigInt('0x' + (info.chainwork as string)), f.chain.tip.chainWork);
  assert.ok((info.size_on_disk as number) > 0);
  assert.equal(info.pruned, false);
  assert.deepEqual(info.warnings, []);
});

test('getblock: verbosity 0 hex, 1 txids, 2 decoded txs, bool verbose; -5 unknown, -8 bad hash', async () => {
  const b = f.blocks[102];
  const hash = b.hashHex();
  assert.equal(await call('getblock', [hash, 0]), bytesToHex(b.encode()));
  assert.equal(await call('getblock', [hash, false]), bytesToHex(b.encode()));
  const v1 = (await call('getblock', [hash])) as Obj;
  assert.equal(v1.hash, hash);
  assert.equal(v1.height, 102);
  assert.equal(v1.confirmations, 2);
  assert.equal(v1.size, b.size);
  assert.equal(v1.nTx, 2);
  assert.deepEqual(v1.tx, [b.txs[0].txidHex(), f.spendTx.txidHex()]);
  assert.equal(v1.previousblockhash, f.blocks[101].hashHex());
  assert.equal(v1.nextblockhash, f.blocks[103].hashHex());
  assert.equal(v1.merkleroot, bytesToHex(Uint8Array.from(b.header.merkleRoot).reverse()));
  assert.equal(v1.bits, '207fffff');
  assert.deepEqual(await call('getblock', [hash, true]), v1);
  const v2 = (await call('getblock', { blockhash: hash, verbosity: 2 })) as { tx: Obj[] };
  assert.equal(v2.tx[1].txid, f.spendTx.txidHex());
  const vout = v2.tx[1].vout as Obj[];
  assert.equal(vout[1].value, 10);
  assert.deepEqual((vout[1].scriptPubKey as Obj).address, f.walletAddress);
  assert.ok('coinbase' in (v2.tx[0].vin as Obj[])[0]);
  // Core v2: each transaction's hex, and the fee of every one but the coinbase (from undo data).
  assert.equal(v2.tx[1].hex, bytesToHex(f.spendTx.encode()));
  assert.equal(v2.tx[1].fee, 0.0001);
  assert.ok(!('fee' in v2.tx[0]));
  assert.ok(!('prevout' in (v2.tx[1].vin as Obj[])[0]));
  // v3: each input's prevout (block 1's coinbase, 50 coins).
  const v3 = (await call('getblock', [hash, 3])) as { tx: Obj[] };
  const prevout = (v3.tx[1].vin as Obj[])[0].prevout as Obj;
  assert.deepEqual([prevout.generated, prevout.height, prevout.value], [true, 1, 50]);
  assert.match((prevout.scriptPubKey as Obj).desc as string, /#[0-9a-z]{8}$/);
  const sib = (await call('getblock', [f.sibling.hashHex()])) as Obj;
  assert.equal(sib.confirmations, -1);
  await assert.rejects(call('getblock', ['00'.repeat(32)]), code(-5));
  await assert.rejects(call('getblock', ['zz'.repeat(32)]), code(-8));
  await assert.rejects(call('getblock', ['abc']), code(-8));
  await assert.rejects(call('getblock', [hash, 4]), code(-8));
  await assert.rejects(call('getblock', [hash, 'x']), code(-3));
  await assert.rejects(call('getblock', [5]), code(-3));
});

test('getblockheader: JSON and 80-byte hex; -5 unknown', async () => {
  const b = f.blocks[103];
  const h = (await call('getblockheader', [b.hashHex()])) as Obj;
  assert.equal(h.height, 103);
  assert.equal(h.confirmations, 1);
  assert.equal(h.nTx, 1);
  assert.equal(h.nextblockhash, undefined);
  assert.equal(h.nonce, b.header.nonce);
  assert.equal(await call('getblockheader', [b.hashHex(), false]), bytesToHex(b.header.encode()));
  await assert.rejects(call('getblockheader', ['11'.repeat(32)]), code(-5));
  await assert.rejects(call('getblockheader', [b.hashHex(), 1]), code(-3));
});

test('getchaintips: the active tip and the sibling branch', async () => {
  const tips = (await call('getchaintips')) as Obj[];
  const active = tips.find((t) => t.status === 'active')!;
  assert.deepEqual(active, { height: 103, hash: f.blocks[103].hashHex(), branchlen: 0, status: 'active' });
  const side = tips.find((t) => t.hash === f.sibling.hashHex())!;
  assert.equal(side.branchlen, 1);
  assert.notEqual(side.status, 'active');
});

test('gettxout: confirmed, coinbase, mempool, spent in mempool, absent; -8 bad txid', async () => {
  const walletOut = (await call('gettxout', [f.spendTx.txidHex(), 1])) as Obj;
  assert.equal(walletOut.bestblock, f.blocks[103].hashHex());
  assert.equal(walletOut.confirmations, 2);
  assert.equal(walletOut.value, 10);
  assert.equal(walletOut.coinbase, false);
  assert.deepEqual(walletOut.scriptPubKey, {
    asm: (walletOut.scriptPubKey as Obj).asm,
    desc: `addr(${f.walletAddress})#${descriptorChecksum(`addr(${f.walletAddress})`)}`,
    hex: (walletOut.scriptPubKey as Obj).hex,
    address: f.walletAddress,
    type: 'pubkeyhash',
  });
  assert.match(
    (walletOut.scriptPubKey as Obj).asm as string,
    /^OP_DUP OP_HASH160 [0-9a-f]{40} OP_EQUALVERIFY OP_CHECKSIG$/,
  );
  const cb = (await call('gettxout', [f.blocks[103].txs[0].txidHex(), 0])) as Obj;
  assert.equal(cb.coinbase, true);
  assert.equal(cb.confirmations, 1);
  // parent:0 is spent by child in the pool; child:0 exists only in the pool.
  assert.equal(await call('gettxout', [f.parent.txidHex(), 0]), null);
  const inPool = (await call('gettxout', [f.child.txidHex(), 0])) as Obj;
  assert.equal(inPool.confirmations, 0);
  assert.equal(await call('gettxout', [f.child.txidHex(), 0, false]), null);
  // block 2's coinbase is spent only in the pool: visible without include_mempool.
  assert.equal(await call('gettxout', [f.blocks[2].txs[0].txidHex(), 0]), null);
  assert.equal(((await call('gettxout', [f.blocks[2].txs[0].txidHex(), 0, false])) as Obj).value, 50);
  assert.equal(await call('gettxout', [f.blocks[1].txs[0].txidHex(), 0]), null);
  assert.equal(await call('gettxout', ['00'.repeat(32), 0]), null);
  await assert.rejects(call('gettxout', ['00', 0]), code(-8));
  await assert.rejects(call('gettxout', [f.spendTx.txidHex(), -1]), code(-8));
  await assert.rejects(call('gettxout', [f.spendTx.txidHex(), '1']), code(-3));
});

test('gettxoutsetinfo: height, bestblock, txouts, total_amount, hash_serialized_3 (the chain digest)', async () => {
  const info = (await call('gettxoutsetinfo')) as Obj;
  const d = await f.chain.utxoDigest();
  assert.equal(info.height, 103);
  assert.equal(info.bestblock, f.blocks[103].hashHex());
  assert.equal(info.txouts, d.count);
  assert.equal(info.hash_serialized_3, d.hash);
  // 103 subsidies of 50 (block 102's fee went to its coinbase and left the spent coin's 50).
  assert.equal(info.total_amount, 103 * 50);
  assert.equal(((await call('gettxoutsetinfo', ['none'])) as Obj).hash_serialized_3, undefined);
  await assert.rejects(call('gettxoutsetinfo', ['sha256']), code(-8));
  await assert.rejects(call('gettxoutsetinfo', [1]), code(-3));
});

test('getmempoolinfo, getrawmempool (plain and verbose), getmempoolentry (-5 unknown)', async () => {
  const info = (await call('getmempoolinfo')) as Obj;
  assert.equal(info.loaded, true);
  assert.equal(info.size, 2);
  assert.equal(info.bytes, f.parent.size + f.child.size);
  assert.equal(info.total_fee, 0.0003);
  assert.equal(info.minrelaytxfee, 0.00001);
  assert.equal(info.maxmempool, 300_000_000);
  const ids = (await call('getrawmempool')) as string[];
  assert.deepEqual(new Set(ids), new Set([f.parent.txidHex(), f.child.txidHex()]));
  const verbose = (await call('getrawmempool', [true])) as Record<string, Obj>;
  const c = verbose[f.child.txidHex()];
  assert.equal(c.vsize, f.child.size);
  assert.equal(c.height, 103);
  assert.equal(c.ancestorcount, 2);
  assert.equal(c.ancestorsize, f.child.size + f.parent.size);
  assert.deepEqual(c.depends, [f.parent.txidHex()]);
  assert.deepEqual(c.fees, { base: 0.0002, modified: 0.0002, ancestor: 0.0003, descendant: 0.0002 });
  const p = (await call('getmempoolentry', [f.parent.txidHex()])) as Obj;
  assert.deepEqual(p.spentby, [f.child.txidHex()]);
  assert.equal(p.descendantcount, 2);
  assert.deepEqual(p, verbose[f.parent.txidHex()]);
  await assert.rejects(
    call('getmempoolentry', [f.spendTx.txidHex()]),
    (e: unknown) => code(-5)(e) && (e as Error).message === 'Transaction not in mempool',
  );
  await assert.rejects(call('getmempoolentry', ['x']), code(-8));
  await assert.rejects(call('getrawmempool', ['yes']), code(-3));
});

test('estimatesmartfee: insufficient data, range -8, mode -8, and an estimate once data exists', async () => {
  assert.deepEqual(await call('estimatesmartfee', [6]), {
    errors: ['Insufficient data or no feerate found'],
    blocks: 0,
  });
  await assert.rejects(call('estimatesmartfee', [0]), code(-8));
  await assert.rejects(call('estimatesmartfee', [1009]), code(-8));
  await assert.rejects(call('estimatesmartfee', ['6']), code(-3));
  await assert.rejects(call('estimatesmartfee', [6, 'fast']), code(-8));
  // Feed the estimator: twenty blocks, each confirming ten 5,000-per-kB transactions after one block.
  const pool = new Map<string, { txid: string; fee: bigint; size: number; height: number }>();
  const txs = (h: number) =>
    Array.from(
      { length: 10 },
      (_, i) =>
        new Tx(
          1,
          [new TxIn(new OutPoint(new Uint8Array(32).fill(i), h), new Uint8Array(0))],
          [new TxOut(1n, f.builder.script)],
          0,
        ),
    );
  for (let h = 1000; h < 1020; h++) {
    const batch = txs(h);
    const mem = {
      get: (id: string) => pool.get(id) as never,
      all: () => [] as never[],
    };
    for (const t of batch) {
      const id = bytesToHex(t.txid());
      pool.set(id, { txid: id, fee: BigInt(t.size * 5), size: t.size, height: h - 1 });
    }
    f.feeEstimator.processBlock(h, batch, mem);
  }
  const est = (await call('estimatesmartfee', { conf_target: 3, estimate_mode: 'CONSERVATIVE' })) as Obj;
  assert.equal(est.blocks, 3);
  assert.equal(est.feerate, 0.00005);
});

test('validateaddress: valid P2PKH, invalid text', async () => {
  const ok = (await call('validateaddress', [f.walletAddress])) as Obj;
  assert.equal(ok.isvalid, true);
  assert.equal(ok.address, f.walletAddress);
  assert.match(ok.scriptPubKey as string, /^76a914[0-9a-f]{40}88ac$/);
  assert.equal(ok.isscript, false);
  const bad = (await call('validateaddress', ['1BoatSLRHtKNngkdXEeobR76b53LETtpyT'])) as Obj;
  assert.equal(bad.isvalid, false);
  assert.equal(typeof bad.error, 'string');
  await assert.rejects(call('validateaddress', [1]), code(-3));
});

test('invalidateblock moves the tip back, reconsiderblock restores it; -5 unknown', async () => {
  const tip = f.blocks[103].hashHex();
  assert.equal(await call('invalidateblock', [f.blocks[102].hashHex()]), null);
  assert.equal(await call('getblockcount'), 101);
  const tips = (await call('getchaintips')) as Obj[];
  assert.equal(tips.find((t) => t.hash === tip)!.status, 'invalid');
  assert.equal(await call('reconsiderblock', [f.blocks[102].hashHex()]), null);
  assert.equal(await call('getblockcount'), 103);
  await assert.rejects(call('invalidateblock', ['00'.repeat(32)]), code(-5));
  await assert.rejects(call('reconsiderblock', ['00'.repeat(32)]), code(-5));
  await assert.rejects(call('invalidateblock', [params.genesis.hashHex()]), code(-1));
  await assert.rejects(call('invalidateblock', []), code(-1));
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { descriptorChecksum } from '../../src/rpc/descriptor.js';
import { RejectError } from '../../src/consensus/errors.js';
import { encodeAddress, scriptToAddress } from '../../src/primitives/address.js';
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { OutPoint, Tx } from '../../src/primitives/tx.js';
import { RpcError } from '../../src/rpc/errors.js';
import { rpcCode as code } from './helpers.js';
import { mempoolRejectToRpc } from '../../src/rpc/rawtx-methods.js';
import { type NodeFixture, openNodeFixture, params } from './node-fixture.js';

let f: NodeFixture;
before(async () => {
  f = await openNodeFixture();
});
after(async () => {
  await f.close();
});

const call = (method: string, p: unknown[] | Record<string, unknown> = [], uri = '/wallet/w1') =>
  f.rpc(method, p, uri);
type Obj = Record<string, unknown>;
const DEST = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), params.prefixes);

test('getrawtransaction: mempool, with blockhash, verbose; -5 otherwise', async () => {
  assert.equal(await call('getrawtransaction', [f.parent.txidHex()]), bytesToHex(f.parent.encode()));
  const v = (await call('getrawtransaction', [f.child.txidHex(), true])) as Obj;
  assert.equal(v.txid, f.child.txidHex());
  assert.equal(v.hex, bytesToHex(f.child.encode()));
  assert.equal(v.size, f.child.size);
  assert.equal(v.blockhash, undefined);
  const b = f.blocks[102];
  const inBlock = (await call('getrawtransaction', [f.spendTx.txidHex(), 1, b.hashHex()])) as Obj;
  assert.equal(inBlock.blockhash, b.hashHex());
  assert.equal(inBlock.confirmations, 2);
  assert.equal(inBlock.in_active_chain, true);
  assert.equal(inBlock.blocktime, b.header.time);
  assert.equal(
    await call('getrawtransaction', { txid: f.spendTx.txidHex(), blockhash: b.hashHex() }),
    bytesToHex(f.spendTx.encode()),
  );
  await assert.rejects(
    call('getrawtransaction', [f.spendTx.txidHex()]),
    code(-5, /No such mempool transaction/),
  );
  await assert.rejects(
    call('getrawtransaction', [f.parent.txidHex(), 0, b.hashHex()]),
    code(-5, /No such transaction found in the provided block/),
  );
  await assert.rejects(
    call('getrawtransaction', [f.parent.txidHex(), 0, '00'.repeat(32)]),
    code(-5, /Block hash not found/),
  );
  await assert.rejects(call('getrawtransaction', [params.genesis.txs[0].txidHex()]), code(-5, /genesis/));
  await assert.rejects(call('getrawtransaction', ['abcd']), code(-8));
  await assert.rejects(call('getrawtransaction', [f.parent.txidHex(), 'yes']), code(-3));
  await assert.rejects(call('getrawtransaction', [f.parent.txidHex(), 5]), code(-8));
});

test('decoderawtransaction: fields as Core; -22 on bad hex or bytes', async () => {
  const d = (await call('decoderawtransaction', [bytesToHex(f.spendTx.encode())])) as Obj;
  assert.equal(d.txid, f.spendTx.txidHex());
  assert.equal(d.hash, d.txid);
  assert.equal(d.version, 1);
  assert.equal(d.locktime, 0);
  assert.equal(d.vsize, f.spendTx.size);
  assert.equal(d.weight, f.spendTx.size * 4);
  const vin = (d.vin as Obj[])[0];
  assert.equal(vin.txid, f.blocks[1].txs[0].txidHex());
  assert.equal(vin.vout, 0);
  assert.equal(vin.sequence, 0xffffffff);
  assert.match(
    (vin.scriptSig as Obj).asm as string,
    /^[0-9a-f]+\[ALL\] [0-9a-f]{66}$|^[0-9a-f]+ [0-9a-f]{66}$/,
  );
  const vout = d.vout as Obj[];
  assert.deepEqual([vout[0].n, vout[1].n, vout[1].value], [0, 1, 10]);
  await assert.rejects(call('decoderawtransaction', ['zz']), code(-22, /TX decode failed/));
  await assert.rejects(call('decoderawtransaction', ['0100']), code(-22));
  await assert.rejects(call('decoderawtransaction', [bytesToHex(f.spendTx.encode()) + '00']), code(-22));
  await assert.rejects(call('decoderawtransaction', [12]), code(-3));
  await assert.rejects(call('decoderawtransaction'), code(-1, /Arguments:\n1\. hexstring/));
});

test('decodescript: P2PKH, multisig with p2sh, nulldata, -8 non-hex', async () => {
  const p2pkh = (await call('decodescript', [bytesToHex(f.builder.script)])) as Obj;
  assert.equal(p2pkh.type, 'pubkeyhash');
  assert.equal(p2pkh.address, scriptToAddress(f.builder.script, params.prefixes));
  assert.equal(typeof p2pkh.p2sh, 'string');
  const pub = bytesToHex(f.builder.pub);
  const ms = (await call('decodescript', [`51${'21' + pub}51ae`])) as Obj;
  assert.equal(ms.type, 'multisig');
  assert.equal(ms.asm, `1 ${pub} 1 OP_CHECKMULTISIG`);
  assert.ok(typeof ms.p2sh === 'string');
  const op = (await call('decodescript', ['6a0401020304'])) as Obj;
  assert.deepEqual(op, {
    asm: 'OP_RETURN 67305985',
    desc: `raw(6a0401020304)#${descriptorChecksum('raw(6a0401020304)')}`,
    type: 'nulldata',
  });
  const empty = (await call('decodescript', [''])) as Obj;
  assert.equal(empty.type, 'nonstandard');
  await assert.rejects(call('decodescript', ['xyz']), code(-8, /must be hexadecimal/));
  await assert.rejects(call('decodescript', [[]]), code(-3));
});

test('createrawtransaction: objects and pair arrays, data, locktime, sequence; -8/-5/-3 errors', async () => {
  const txid = f.spendTx.txidHex();
  const hex = (await call('createrawtransaction', [
    [{ txid, vout: 1 }],
    { [DEST]: 1.5, data: 'cafe' },
  ])) as string;
  const tx = Tx.decode(hexToBytes(hex));
  assert.equal(tx.version, 2);
  assert.equal(tx.inputs[0].prevout.txidHex(), txid);
  assert.equal(tx.inputs[0].sequence, 0xffffffff);
  assert.equal(tx.outputs[0].value, 150_000_000n);
  assert.equal(bytesToHex(tx.outputs[1].scriptPubKey), '6a02cafe');
  const withLock = (await call('createrawtransaction', {
    inputs: [
      { txid, vout: 1 },
      { txid, vout: 0, sequence: 7 },
    ],
    outputs: [{ [DEST]: '0.1' }, { data: '00' }],
    locktime: 500,
  })) as string;
  const t2 = Tx.decode(hexToBytes(withLock));
  assert.deepEqual([t2.locktime, t2.inputs[0].sequence, t2.inputs[1].sequence], [500, 0xfffffffe, 7]);
  const rbf = Tx.decode(
    hexToBytes((await call('createrawtransaction', [[{ txid, vout: 0 }], {}, 0, true])) as string),
  );
  assert.equal(rbf.inputs[0].sequence, 0xfffffffd);
  const bad = (inputs: unknown, outputs: unknown, ...rest: unknown[]) =>
    call('createrawtransaction', [inputs, outputs, ...rest]);
  await assert.rejects(bad([{ txid: 'ab', vout: 0 }], {}), code(-8, /length 64/));
  await assert.rejects(bad([{ txid, vout: -1 }], {}), code(-8, /vout cannot be negative/));
  await assert.rejects(bad([{ txid }], {}), code(-8, /missing vout/));
  await assert.rejects(bad([{ txid, vout: 0, sequence: -2 }], {}), code(-8, /sequence/));
  await assert.rejects(bad([], { nope: 1 }), code(-5, /Invalid Tally address/));
  await assert.rejects(bad([], [{ [DEST]: 1 }, { [DEST]: 2 }]), code(-8, /duplicated address/));
  await assert.rejects(bad([], [{ [DEST]: 1, data: '00' }]), code(-8, /exactly one key/));
  await assert.rejects(bad([], { data: 'zz' }), code(-8, /Data must be hexadecimal/));
  await assert.rejects(bad([], { [DEST]: -1 }), code(-3));
  await assert.rejects(bad([], {}, -1), code(-8, /locktime out of range/));
  await assert.rejects(bad([], {}, 2 ** 32), code(-8, /locktime out of range/));
  await assert.rejects(bad({}, {}), code(-3));
  await assert.rejects(bad([], 5), code(-3));
  await assert.rejects(bad(['x'], {}), code(-3));
});

test('signrawtransactionwithwallet signs the wallet input; testmempoolaccept and sendrawtransaction accept it', async () => {
  const txid = f.spendTx.txidHex();
  const unsigned = (await call('createrawtransaction', [[{ txid, vout: 1 }], { [DEST]: 9.999 }])) as string;
  await assert.rejects(call('signrawtransactionwithwallet', [unsigned], '/wallet/locked'), code(-13));
  await assert.rejects(call('signrawtransactionwithwallet', [unsigned], '/'), code(-19));
  await assert.rejects(call('signrawtransactionwithwallet', ['00']), code(-22));
  await assert.rejects(
    call('signrawtransactionwithwallet', [unsigned, [], 'EVERYTHING']),
    code(-8, /sighash/),
  );
  const signed = (await call('signrawtransactionwithwallet', [unsigned])) as Obj;
  assert.equal(signed.complete, true);
  assert.equal(signed.errors, undefined);
  const tx = Tx.decode(hexToBytes(signed.hex as string));
  assert.ok(tx.inputs[0].scriptSig.length > 100);

  // An input nobody knows, and one the wallet cannot sign (the builder's key).
  const partial = (await call('createrawtransaction', [
    [
      { txid: '11'.repeat(32), vout: 0 },
      { txid, vout: 0 },
    ],
    { [DEST]: 1 },
  ])) as string;
  const p = (await call('signrawtransactionwithwallet', [partial])) as { complete: boolean; errors: Obj[] };
  assert.equal(p.complete, false);
  assert.equal(p.errors.length, 2);
  assert.equal(p.errors[0].error, 'Input not found or already spent');
  assert.equal(p.errors[1].vout, 0);
  // prevtxs supplies the unknown coin; a known coin with another script is -22.
  const withPrev = (await call('signrawtransactionwithwallet', [
    partial,
    [{ txid: '11'.repeat(32), vout: 0, scriptPubKey: bytesToHex(f.builder.script), amount: 1 }],
  ])) as { errors: Obj[] };
  assert.equal(withPrev.errors.length, 2);
  assert.notEqual(withPrev.errors[0].error, 'Input not found or already spent');
  await assert.rejects(
    call('signrawtransactionwithwallet', [partial, [{ txid, vout: 0, scriptPubKey: '51' }]]),
    code(-22, /scriptPubKey mismatch/),
  );
  await assert.rejects(
    call('signrawtransactionwithwallet', [partial, [{ txid, vout: 0 }]]),
    code(-3, /Missing scriptPubKey/),
  );
  await assert.rejects(
    call('signrawtransactionwithwallet', [partial, [{ txid, vout: -1, scriptPubKey: '51' }]]),
    code(-22, 'vout cannot be negative'), // Core's ParsePrevouts: RPC_DESERIALIZATION_ERROR
  );

  const accepted = (await call('testmempoolaccept', [[signed.hex]])) as Obj[];
  assert.equal(accepted[0].allowed, true);
  assert.equal(accepted[0].txid, tx.txidHex());
  assert.equal(accepted[0].vsize, tx.size);
  assert.deepEqual(accepted[0].fees, { base: 0.001 });
  const capped = (await call('testmempoolaccept', [[signed.hex], 0.00001])) as Obj[];
  assert.deepEqual([capped[0].allowed, capped[0]['reject-reason']], [false, 'max-fee-exceeded']);
  await assert.rejects(call('sendrawtransaction', [signed.hex, 0.00001]), code(-25, /Fee exceeds maximum/));
  assert.equal(f.mempool.has(tx.txid()), false);
  assert.equal(await call('sendrawtransaction', [signed.hex]), tx.txidHex());
  assert.equal(f.mempool.has(tx.txid()), true);
  // Again: already in the pool, Core answers with the txid.
  assert.equal(await call('sendrawtransaction', [signed.hex]), tx.txidHex());
  const again = (await call('testmempoolaccept', [[signed.hex]])) as Obj[];
  assert.deepEqual([again[0].allowed, again[0]['reject-reason']], [false, 'txn-already-in-mempool']);
});

test('sendrawtransaction and testmempoolaccept error codes', async () => {
  await assert.rejects(call('sendrawtransaction', ['zz']), code(-22, /TX decode failed/));
  await assert.rejects(call('sendrawtransaction', [5]), code(-3));
  // Spends a coin that does not exist: -25 missing inputs.
  const immature = f.builder.spend([f.builder.cbOut(f.blocks[50])], { fee: 10_000n });
  const bogus = f.builder.spend([
    { outpoint: new OutPoint(new Uint8Array(32).fill(9), 0), value: 1_000_000n, script: f.builder.script },
  ]);
  await assert.rejects(call('sendrawtransaction', [bytesToHex(bogus.encode())]), code(-25, /missingorspent/));
  // Immature coinbase (block 50 at tip 103): rejected -26 with the reason.
  await assert.rejects(
    call('sendrawtransaction', [bytesToHex(immature.encode())]),
    code(-26, /^bad-txns-premature-spend-of-coinbase/),
  );
  // Outputs already confirmed: -27.
  await assert.rejects(call('sendrawtransaction', [bytesToHex(f.spendTx.encode())]), code(-27));
  const r = (await call('testmempoolaccept', [[bytesToHex(bogus.encode())]])) as Obj[];
  assert.deepEqual([r[0].allowed, r[0]['reject-reason']], [false, 'missing-inputs']);
  await assert.rejects(call('testmempoolaccept', [[]]), code(-8, /between 1 and 25/));
  await assert.rejects(call('testmempoolaccept', ['00']), code(-3));
  await assert.rejects(call('testmempoolaccept', [['zz']]), code(-22));
  await assert.rejects(call('testmempoolaccept', [[5]]), code(-3));
  await assert.rejects(call('testmempoolaccept', [[bytesToHex(bogus.encode())], 'x']), code(-3));
});

test('mempoolRejectToRpc maps reasons onto Core codes and leaves other errors alone', () => {
  const m = (e: unknown) => mempoolRejectToRpc(e) as RpcError;
  assert.equal(m(new RejectError('missing-inputs', 'policy')).code, -25);
  assert.deepEqual(
    [
      m(new RejectError('bad-txns-inputs-missingorspent', 'consensus')).code,
      m(new RejectError('missing-inputs', 'policy')).message,
    ],
    [-25, 'bad-txns-inputs-missingorspent'],
  );
  assert.equal(m(new RejectError('txn-already-known', 'policy')).code, -27);
  const r = m(new RejectError('min relay fee not met', 'policy', { debug: '1 < 2' }));
  assert.deepEqual([r.code, r.message], [-26, 'min relay fee not met, 1 < 2']);
  const plain = new Error('x');
  assert.equal(mempoolRejectToRpc(plain), plain);
});

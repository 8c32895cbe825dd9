// signrawtransactionwithkey and combinerawtransaction against one real tally process, as Core v29:
// keys drawn here and written as WIF by the `wif` package (not Tally's encoder) sign P2PKH, P2PK,
// bare multisig and P2SH multisig (redeemScript from prevtxs) inputs; a multisig signed by one key
// shows Core's per-input error, a second signer or combinerawtransaction completes it, and the
// results pass testmempoolaccept and are mined. Result fields are compared with Core's help text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { addressToScript, encodeAddress } from '../../src/primitives/address.js';
import { bytesToHex, hashFromHex, hexToBytes } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { multisigScript, p2pkScript, p2shScript } from '../../src/script/standard.js';
import { stopAll, type TallyProcess } from '../integration/cluster.js';
import {
  assertCoreShape,
  type CoreShape,
  independentKey,
  rpcCode as code,
  startFundedNode,
} from './helpers.js';

const prefixes = getParams('regtest').prefixes;
const COIN = 100_000_000n;

// From Core v29's help text (signrawtransactionwithkey's RPCResult).
const SIGNED: CoreShape = { hex: 'string', complete: 'boolean', 'errors?': 'array' };
const INPUT_ERROR: CoreShape = {
  txid: 'string',
  vout: 'number',
  witness: 'array',
  scriptSig: 'string',
  sequence: 'number',
  error: 'string',
};

interface Signed {
  hex: string;
  complete: boolean;
  errors?: { txid: string; vout: number; error: string }[];
}

let node: TallyProcess;
let walletAddress: string;
const k1 = independentKey();
const k2 = independentKey();
const k3 = independentKey();
const pub = (k: { pubkey: string }) => hexToBytes(k.pubkey);
const multisig = multisigScript(2, [pub(k1), pub(k2), pub(k3)]);
const p2sh = p2shScript(hash160(multisig));

before(async () => {
  ({ node, walletAddress } = await startFundedNode());
});
after(() => stopAll());

const accepted = async (hex: string) =>
  (await node.rpc<{ allowed: boolean; 'reject-reason'?: string }[]>('testmempoolaccept', [[hex]]))[0];

async function mineAndCheck(hex: string): Promise<void> {
  const txid = await node.rpc<string>('sendrawtransaction', [hex]);
  const [block] = await node.rpc<string[]>('generatetoaddress', [1, walletAddress]);
  const b = await node.rpc<{ tx: string[] }>('getblock', [block]);
  assert.ok(b.tx.includes(txid), 'mined');
}

test('WIF keys from another library sign P2PKH, P2PK, bare and P2SH multisig; combinerawtransaction merges', async () => {
  // A coin at k1's P2PKH address, spent (signed by k1's WIF) into P2PK, bare multisig and P2SH.
  const fundTxid = await node.rpc<string>('sendtoaddress', [k1.address, 10]);
  const fund = await node.rpc<{ vout: { n: number; scriptPubKey: { address?: string } }[] }>(
    'getrawtransaction',
    [fundTxid, 1],
  );
  const n = fund.vout.find((o) => o.scriptPubKey.address === k1.address)!.n;
  const outs = [
    new TxOut(2n * COIN, p2pkScript(pub(k2))),
    new TxOut(2n * COIN, multisig),
    new TxOut(2n * COIN, p2sh),
    new TxOut(4n * COIN - 20_000n, addressToScript(k1.address, prefixes)),
  ];
  const unsignedFund = new Tx(
    2,
    [new TxIn(new OutPoint(hashFromHex(fundTxid), n), new Uint8Array(0))],
    outs,
    0,
  );
  // Before signing: Core's per-input error for a missing signature.
  const none = await node.rpc<Signed>('signrawtransactionwithkey', [bytesToHex(unsignedFund.encode()), []]);
  assertCoreShape(none, SIGNED, 'signrawtransactionwithkey');
  assert.equal(none.complete, false);
  assertCoreShape(none.errors![0], INPUT_ERROR, 'errors[]');
  assert.equal(none.errors![0].error, 'Unable to sign input, invalid stack size (possibly missing key)');
  const signed = await node.rpc<Signed>('signrawtransactionwithkey', {
    hexstring: bytesToHex(unsignedFund.encode()),
    privkeys: [k1.wif],
  });
  assertCoreShape(signed, SIGNED, 'signrawtransactionwithkey');
  assert.deepEqual([signed.complete, signed.errors], [true, undefined]);
  assert.equal((await accepted(signed.hex)).allowed, true);
  await mineAndCheck(signed.hex);

  // Spend all three; the P2SH redeem script comes from prevtxs.
  const parent = Tx.decode(hexToBytes(signed.hex));
  const spend = new Tx(
    2,
    [0, 1, 2].map((i) => new TxIn(new OutPoint(parent.txid(), i), new Uint8Array(0))),
    [new TxOut(6n * COIN - 30_000n, addressToScript(walletAddress, prefixes))],
    0,
  );
  const hex = bytesToHex(spend.encode());
  const prevtxs = [
    { txid: parent.txidHex(), vout: 2, scriptPubKey: bytesToHex(p2sh), redeemScript: bytesToHex(multisig) },
  ];
  const byK2 = await node.rpc<Signed>('signrawtransactionwithkey', [hex, [k2.wif], prevtxs]);
  assert.equal(byK2.complete, false);
  // P2PK is done; both multisigs need a second signature (Core's NULLFAIL wording).
  assert.deepEqual(
    byK2.errors!.map((e) => [e.vout, e.error]),
    [1, 2].map((v) => [v, 'CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)']),
  );
  for (const e of byK2.errors!) assertCoreShape(e, INPUT_ERROR, 'errors[]');
  const byK3 = await node.rpc<Signed>('signrawtransactionwithkey', [hex, [k3.wif], prevtxs, 'ALL']);
  assert.equal(byK3.complete, false);
  assert.equal(byK3.errors!.length, 3, 'k3 cannot sign the P2PK input');

  // A second signer completes what the first began, keeping its signatures.
  const sequential = await node.rpc<Signed>('signrawtransactionwithkey', [byK2.hex, [k3.wif], prevtxs]);
  assert.deepEqual([sequential.complete, sequential.errors], [true, undefined]);
  // combinerawtransaction merges the two partial ones into the same complete transaction.
  const combined = await node.rpc<string>('combinerawtransaction', [[byK2.hex, byK3.hex]]);
  assert.equal(combined, sequential.hex);
  assert.equal((await accepted(combined)).allowed, true);
  // One partial alone stays partial and is refused by the pool.
  assert.equal(await node.rpc('combinerawtransaction', [[byK3.hex]]), byK3.hex);
  assert.equal((await accepted(byK3.hex)).allowed, false);
  await mineAndCheck(combined);
});

test('Core errors: bad keys, hex, prevtxs, sighash type; unknown inputs', async () => {
  const unknown = new Tx(
    2,
    [new TxIn(new OutPoint(new Uint8Array(32).fill(7), 0), new Uint8Array(0))],
    [new TxOut(COIN, addressToScript(walletAddress, prefixes))],
    0,
  );
  const hex = bytesToHex(unknown.encode());
  const r = await node.rpc<Signed>('signrawtransactionwithkey', [hex, [k1.wif]]);
  assert.equal(r.complete, false);
  assert.equal(r.errors![0].error, 'Input not found or already spent');
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', [hex, ['notakey']]),
    code(-5, 'Invalid private key'),
  );
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', ['zz', [k1.wif]]),
    code(-22, 'TX decode failed. Make sure the tx has at least one input.'),
  );
  await assert.rejects(node.rpc('signrawtransactionwithkey', [hex]), code(-1, /^signrawtransactionwithkey /));
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', [hex, [k1.wif], [], 'FOO']),
    code(-8, "'FOO' is not a valid sighash parameter."),
  );
  const prev = { txid: '07'.repeat(32), vout: 0, scriptPubKey: bytesToHex(p2sh) };
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', [hex, [k1.wif], [prev]]),
    code(-8, 'Missing redeemScript/witnessScript'),
  );
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', [hex, [k1.wif], [{ ...prev, redeemScript: '51' }]]),
    code(-8, 'redeemScript/witnessScript does not match scriptPubKey'),
  );
  await assert.rejects(
    node.rpc('signrawtransactionwithkey', [hex, [k1.wif], [{ ...prev, vout: -1 }]]),
    code(-22, 'vout cannot be negative'),
  );
  await assert.rejects(node.rpc('signrawtransactionwithkey', [hex, [k1.wif], ['x']]), code(-22));
  // With a prevtx the coin is known: k1 signs its P2PKH and the input verifies.
  const script = bytesToHex(
    addressToScript(encodeAddress('pubkeyhash', hash160(pub(k1)), prefixes), prefixes),
  );
  const withPrev = await node.rpc<Signed>('signrawtransactionwithkey', [
    hex,
    [k1.wif],
    [{ txid: '07'.repeat(32), vout: 0, scriptPubKey: script, amount: 1 }],
  ]);
  assert.deepEqual([withPrev.complete, withPrev.errors], [true, undefined]);

  await assert.rejects(node.rpc('combinerawtransaction', [[]]), code(-22, 'Missing transactions'));
  await assert.rejects(
    node.rpc('combinerawtransaction', [[hex, 'zz']]),
    code(-22, 'TX decode failed for tx 1. Make sure the tx has at least one input.'),
  );
  await assert.rejects(
    node.rpc('combinerawtransaction', [[hex]]),
    code(-25, 'Input not found or already spent'),
  );
});

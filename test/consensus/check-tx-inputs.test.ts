// Core's CheckTxInputs: inputs exist, coinbase maturity, amounts in range, fee returned. And BIP30,
// and when ConnectBlock applies it (BIP34_IMPLIES_BIP30_LIMIT, BIP34Hash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBIP30, checkTxInputs, isBIP30Exception } from '../../src/consensus/tx-verify.js';
import { MAX_MONEY } from '../../src/consensus/amount.js';
import { BIP34_IMPLIES_BIP30_LIMIT, connectFetchList, enforcesBIP30 } from '../../src/consensus/connect.js';
import { getParams } from '../../src/consensus/params.js';
import { Block } from '../../src/primitives/block.js';
import { OutPoint } from '../../src/primitives/tx.js';
import { MapCoinView, assertReject, outpoint, spend } from './fixtures.js';

const params = { coinbaseMaturity: 100 };

test('returns the fee', () => {
  const view = new MapCoinView().add(outpoint(1), { value: 700n }).add(outpoint(2), { value: 300n });
  assert.equal(checkTxInputs(spend([outpoint(1), outpoint(2)], [900n]), view, 10, params), 100n);
  assert.equal(checkTxInputs(spend([outpoint(1)], [700n]), view, 10, params), 0n);
});

test('bad-txns-inputs-missingorspent', () => {
  const view = new MapCoinView().add(outpoint(1), { value: 700n });
  assertReject(
    () => checkTxInputs(spend([outpoint(1), outpoint(1, 1)], [1n]), view, 10, params),
    'bad-txns-inputs-missingorspent',
  );
});

test('bad-txns-premature-spend-of-coinbase: needs 100 confirmations', () => {
  const view = new MapCoinView().add(outpoint(1), { value: 50n, height: 5, coinbase: true });
  const tx = spend([outpoint(1)], [50n]);
  assertReject(() => checkTxInputs(tx, view, 104, params), 'bad-txns-premature-spend-of-coinbase');
  assert.equal(checkTxInputs(tx, view, 105, params), 0n);
  // A non-coinbase coin can be spent in the next block.
  const view2 = new MapCoinView().add(outpoint(1), { value: 50n, height: 5 });
  assert.equal(checkTxInputs(tx, view2, 6, params), 0n);
});

test('bad-txns-in-belowout', () => {
  const view = new MapCoinView().add(outpoint(1), { value: 700n });
  assertReject(() => checkTxInputs(spend([outpoint(1)], [701n]), view, 10, params), 'bad-txns-in-belowout');
});

test('bad-txns-inputvalues-outofrange for coins beyond MAX_MONEY', () => {
  const view = new MapCoinView().add(outpoint(1), { value: MAX_MONEY }).add(outpoint(2), { value: 1n });
  assertReject(
    () => checkTxInputs(spend([outpoint(1), outpoint(2)], [1n]), view, 10, params),
    'bad-txns-inputvalues-outofrange',
  );
});

test('bad-txns-BIP30: outputs may not overwrite an unspent coin', () => {
  const tx = spend([outpoint(1)], [5n, 6n]);
  const view = new MapCoinView();
  checkBIP30(tx, view);
  view.add(new OutPoint(tx.txid(), 1), { value: 6n });
  assertReject(() => checkBIP30(tx, view), 'bad-txns-BIP30');
});

test('BIP30 exceptions match height and hash', () => {
  const p = {
    bip30Exceptions: [
      { height: 91842, hash: '00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec' },
    ],
  };
  assert.ok(isBIP30Exception(91842, '00000000000A4D0A398161FFC163C503763B1F4360639393E0E4C8E300E0CAEC', p));
  assert.ok(!isBIP30Exception(91843, '00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec', p));
  assert.ok(!isBIP30Exception(91842, '00'.repeat(32), p));
});

test("BIP30 is read where Core's ConnectBlock reads it", () => {
  const main = getParams('main');
  const regtest = getParams('regtest');
  const bitcoin = getParams('bitcoin');
  const g = main.genesis;
  const other = '11'.repeat(32);
  // BIP34 since the block after genesis (main, test): implied on the chain of that genesis.
  assert.equal(enforcesBIP30(g, 1, main, main.genesis.hashHex()), false);
  assert.equal(enforcesBIP30(g, 500_000, main, main.genesis.hashHex()), false);
  assert.equal(enforcesBIP30(g, 500_000, main, other), true);
  assert.equal(enforcesBIP30(g, 500_000, main, undefined), true);
  // From Core's limit on, read again whatever the chain.
  assert.equal(enforcesBIP30(g, BIP34_IMPLIES_BIP30_LIMIT - 1, main, main.genesis.hashHex()), false);
  assert.equal(enforcesBIP30(g, BIP34_IMPLIES_BIP30_LIMIT, main, main.genesis.hashHex()), true);
  // Core's regtest: no BIP34Hash, read at every height.
  assert.equal(enforcesBIP30(g, 5, regtest, regtest.genesis.hashHex()), true);
  // Bitcoin: read below the BIP34 height but for the two repeats; above it on the known chain, not.
  const b = bitcoin.genesis;
  assert.equal(enforcesBIP30(b, 200_000, bitcoin, undefined), true);
  const repeat = {
    hashHex: () => '00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec',
  } as Block;
  assert.equal(enforcesBIP30(repeat, 91842, bitcoin, undefined), false);
  assert.equal(enforcesBIP30(b, 300_000, bitcoin, bitcoin.bip34Hash!), false);
  assert.equal(enforcesBIP30(b, 300_000, bitcoin, other), true);
  // What connectBlock fetches follows: the inputs always, the outputs only where BIP30 is read.
  const blk = new Block(g.header, [g.txs[0], g.txs[0]]);
  const ins = blk.txs[1].inputs.length;
  const outs = blk.txs.reduce((n, tx) => n + tx.outputs.length, 0);
  assert.equal(connectFetchList(blk, { height: 7, bip34Ancestor: main.genesis.hashHex() }, main).length, ins);
  assert.equal(connectFetchList(blk, { height: 7, bip34Ancestor: undefined }, main).length, ins + outs);
});

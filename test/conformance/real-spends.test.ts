// Real mainnet spends verify: every input of blocks 300025 and 277647 against their undo data,
// block 170's spend of block 9's coinbase (the first P2P payment), and bcoin's odd historical
// transactions, each under the flags its era allows (SOURCES.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVector } from '../vectors.js';
import { Tx, TxOut } from '../../src/primitives/tx.js';
import { ScriptFlags as F, STANDARD_SCRIPT_FLAGS } from '../../src/script/flags.js';
import { verifyInput } from '../../src/script/interpreter.js';
import { ScriptError } from '../../src/script/errors.js';
import { getLegacySigOpCount, getP2SHSigOpCount } from '../../src/script/sigops.js';
import { SigCache } from '../../src/script/sigcache.js';
import { bcoinTx, block277647, block300025, readFramedBlocks, type Spend } from './spends.js';

function verifyAll(spends: Spend[], flags: number, cache?: SigCache): number {
  let n = 0;
  for (const { tx, prevouts } of spends) {
    for (let i = 0; i < tx.inputs.length; i++) {
      try {
        verifyInput(tx, i, prevouts[i], flags, cache);
      } catch (e) {
        const code = e instanceof ScriptError ? e.code : String(e);
        assert.fail(`${tx.txidHex()} input ${i}: ${code}`);
      }
      n++;
    }
  }
  return n;
}

test('block 300025: all 1,427 inputs verify (P2SH|DERSIG), sigops as bcoin counts them', () => {
  const { block, spends } = block300025();
  assert.equal(verifyAll(spends, F.P2SH | F.DERSIG), 1427);
  // bcoin's test sums the sigop cost of the non-coinbase txs: 5280 = 1320 sigops x 4. The
  // coinbase's P2PKH output adds the block's 1,321st.
  let sigops = 0;
  for (const { tx, prevouts } of spends) {
    sigops += getLegacySigOpCount(tx);
    sigops += getP2SHSigOpCount(
      tx,
      prevouts.map((p) => p.scriptPubKey),
    );
  }
  assert.equal(sigops * 4, 5280);
  assert.equal(sigops + getLegacySigOpCount(block.txs[0]), 1321);
});

test('block 277647: all 732 inputs verify (P2SH|DERSIG)', () => {
  const { spends } = block277647();
  assert.equal(verifyAll(spends, F.P2SH | F.DERSIG), 732);
});

test("block 170: the first P2P payment spends block 9's coinbase", () => {
  const blocks = readFramedBlocks(readVector('btcd', 'blocks1-256.dat'));
  const b9 = blocks[8];
  const b170 = blocks[169];
  const spend = b170.txs[1];
  assert.equal(spend.txidHex(), 'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16');
  assert.deepEqual(spend.inputs[0].prevout.hash, b9.txs[0].txid());
  const prev = b9.txs[0].outputs[spend.inputs[0].prevout.index];
  assert.equal(verifyAll([{ tx: spend, prevouts: [prev] }], F.P2SH), 1);
  // Any change to what the signature commits to must make it fail.
  const forged = new Tx(
    spend.version,
    spend.inputs,
    [new TxOut(spend.outputs[0].value + 1n, spend.outputs[0].scriptPubKey), ...spend.outputs.slice(1)],
    spend.locktime,
  );
  assert.throws(
    () => verifyInput(forged, 0, prev, F.P2SH),
    (e: unknown) => e instanceof ScriptError && e.code === 'EVAL_FALSE',
  );
});

test("bcoin's historical transactions verify under the flags of their era", () => {
  const cases: [string, number][] = [
    ['tx1', F.P2SH],
    ['tx2', F.P2SH],
    ['tx3', F.P2SH],
    ['tx4', F.P2SH | F.DERSIG],
    ['tx6', F.NONE],
    ['tx7', STANDARD_SCRIPT_FLAGS],
  ];
  for (const [name, flags] of cases) verifyAll([bcoinTx(name)], flags);
  // tx4 carries a high-S signature: policy (LOW_S) rejects what consensus accepts.
  const tx4 = bcoinTx('tx4');
  assert.throws(
    () => verifyInput(tx4.tx, 0, tx4.prevouts[0], F.P2SH | F.DERSIG | F.LOW_S),
    (e: unknown) => e instanceof ScriptError && e.code === 'SIG_HIGH_S',
  );
});

test('the signature cache answers a second verification of the same block', () => {
  const { spends } = block277647();
  const cache = new SigCache(10_000);
  verifyAll(spends, F.P2SH | F.DERSIG, cache);
  const misses = cache.misses;
  assert.equal(cache.hits, 0);
  verifyAll(spends, F.P2SH | F.DERSIG, cache);
  assert.equal(cache.misses, misses);
  assert.equal(cache.hits, 732);
});

// Real Bitcoin mainnet blocks through the block rules with the `bitcoin` preset: CheckBlock,
// ContextualCheckBlock (finality, BIP34 height) and, where the shared vectors hold the spent
// coins, CheckTxInputs over every transaction, the P2SH sigop total and bad-cb-amount with the
// real fees. Undo data carries no heights, so the coins are given height 0 (maturity holds anyway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVector } from '../vectors.js';
import { Block } from '../../src/primitives/block.js';
import type { OutPoint } from '../../src/primitives/tx.js';
import { getParams } from '../../src/consensus/params.js';
import {
  checkBlock,
  checkBlockSigOps,
  contextualCheckBlock,
  transactionSigOpCount,
} from '../../src/consensus/block-check.js';
import { blockScriptFlags } from '../../src/consensus/flags.js';
import { blockSubsidy, checkCoinbaseAmount } from '../../src/consensus/subsidy.js';
import { checkTxInputs, type Coin } from '../../src/consensus/tx-verify.js';
import { ScriptFlags } from '../../src/script/flags.js';
import { block277647, block300025, readFramedBlocks, type Spend } from './spends.js';

const bitcoin = getParams('bitcoin');

function contextFree(block: Block, height: number): void {
  checkBlock(block, bitcoin);
  // Every height here is below BIP113's activation, so the cutoff is the block's own time and
  // the parent's median time past only has to be earlier.
  contextualCheckBlock(block, { height, medianTimePast: block.header.time - 1 }, bitcoin);
}

function connect(block: Block, height: number, spends: Spend[]): bigint {
  const coins = new Map<string, Coin>();
  for (const { tx, prevouts } of spends) {
    tx.inputs.forEach((input, i) =>
      coins.set(input.prevout.key(), {
        value: prevouts[i].value,
        script: prevouts[i].scriptPubKey,
        height: 0,
        coinbase: false,
      }),
    );
  }
  const view = { getCoin: (op: OutPoint) => coins.get(op.key()) };
  const p2sh = (blockScriptFlags(height, block.hash(), bitcoin) & ScriptFlags.P2SH) !== 0;
  let fees = 0n;
  let sigops = transactionSigOpCount(block.txs[0], [], p2sh);
  for (const { tx, prevouts } of spends) {
    fees += checkTxInputs(tx, view, height, bitcoin);
    sigops += transactionSigOpCount(
      tx,
      prevouts.map((o) => o.scriptPubKey),
      p2sh,
    );
    checkBlockSigOps(sigops, bitcoin);
  }
  checkCoinbaseAmount(block, fees, height, bitcoin);
  return fees;
}

test('block 277647: context-free, contextual and connect-time rules with the real fees', () => {
  const { block, spends } = block277647();
  contextFree(block, 277_647);
  const fees = connect(block, 277_647, spends);
  const paid = block.txs[0].outputs.reduce((s, o) => s + o.value, 0n);
  assert.equal(paid, blockSubsidy(277_647, bitcoin) + fees);
});

test('block 300025: context-free, contextual and connect-time rules with the real fees', () => {
  const { block, spends } = block300025();
  contextFree(block, 300_025);
  const fees = connect(block, 300_025, spends);
  const paid = block.txs[0].outputs.reduce((s, o) => s + o.value, 0n);
  assert.ok(paid <= blockSubsidy(300_025, bitcoin) + fees);
  assert.ok(fees > 0n);
});

test('block 413567 (1,557 txs, near the size limit) passes CheckBlock and BIP34', () => {
  contextFree(Block.decode(readVector('bitcoin-core', 'block413567.raw')), 413_567);
});

test('blocks 1..256 pass CheckBlock (pre-BIP34: no coinbase height)', () => {
  const blocks = readFramedBlocks(readVector('btcd', 'blocks1-256.dat'));
  assert.ok(blocks.length > 100);
  blocks.forEach((b, i) => contextFree(b, i + 1));
});

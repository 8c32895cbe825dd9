// Real Bitcoin mainnet blocks through the block rules with the `bitcoin` preset: CheckBlock,
// ContextualCheckBlock (finality, BIP34 height) and, where the shared vectors hold the spent
// coins, the chain's connectBlock (CheckTxInputs over every transaction, the P2SH sigop total,
// bad-cb-amount with the real fees) and every input script. Undo data carries no heights, so the coins are given height 0 (maturity holds anyway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVector } from '../vectors.js';
import { Block } from '../../src/primitives/block.js';
import { getParams } from '../../src/consensus/params.js';
import { checkBlock, contextualCheckBlock } from '../../src/consensus/block-check.js';
import { OverlayView, connectBlock, runScriptChecks } from '../../src/consensus/connect.js';
import { blockSubsidy } from '../../src/consensus/subsidy.js';
import type { Coin } from '../../src/consensus/tx-verify.js';
import { block277647, block300025, readFramedBlocks, type Spend } from './spends.js';

const bitcoin = getParams('bitcoin');

function contextFree(block: Block, height: number): void {
  checkBlock(block, bitcoin);
  // Every height here is below BIP113's activation, so the cutoff is the block's own time and
  // the parent's median time past only has to be earlier.
  contextualCheckBlock(block, { height, medianTimePast: block.header.time - 1 }, bitcoin);
}

/** The chain's connectBlock over the spent coins of the vectors; the input scripts run too. */
function connect(block: Block, height: number, spends: Spend[]): bigint {
  const inBlock = new Set(block.txs.map((tx) => tx.txidHex()));
  const coins = new Map<string, Coin>();
  for (const { tx, prevouts } of spends) {
    tx.inputs.forEach((input, i) => {
      // Outputs of earlier transactions in the block come from the block itself, as on the chain.
      if (inBlock.has(input.prevout.txidHex())) return;
      coins.set(input.prevout.key(), {
        value: prevouts[i].value,
        script: prevouts[i].scriptPubKey,
        height: 0,
        coinbase: false,
      });
    });
  }
  const { fees, scriptChecks } = connectBlock(
    block,
    new OverlayView(coins),
    { height, prevMedianTimePast: block.header.time - 1, medianTimePastAt: () => 0 },
    bitcoin,
  );
  runScriptChecks(scriptChecks);
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

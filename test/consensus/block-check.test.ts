// CheckBlockHeader / CheckBlock / ContextualCheckBlockHeader / ContextualCheckBlock: one case per
// reject reason, on hand-made regtest blocks (bits 0x207fffff, so a valid nonce takes ~2 tries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { concatBytes } from '../../src/primitives/bytes.js';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import { Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { getParams, type ChainParams } from '../../src/consensus/params.js';
import { checkProofOfWork } from '../../src/consensus/pow.js';
import {
  MAX_FUTURE_BLOCK_TIME,
  checkBlock,
  checkBlockHeader,
  checkBlockSigOps,
  contextualCheckBlock,
  contextualCheckBlockHeader,
  transactionSigOpCount,
} from '../../src/consensus/block-check.js';
import { coinbaseHeightScript } from '../../src/consensus/coinbase.js';
import { assertReject, coinbase, outpoint, spend } from './fixtures.js';

const regtest = getParams('regtest');
const T0 = 1_700_000_000;

function cb(height: number, values?: bigint[]): Tx {
  return coinbase(concatBytes(coinbaseHeightScript(height), Uint8Array.of(0xee, 0xff)), values);
}

/** A header over `txs` whose proof of work passes (want=true) or fails (want=false). */
function header(
  txs: readonly Tx[],
  opts: { bits?: number; time?: number; version?: number; root?: Uint8Array; pow?: boolean } = {},
  params: ChainParams = regtest,
): BlockHeader {
  const root = opts.root ?? computeMerkleRoot(txs.map((t) => t.txid())).root;
  const bits = opts.bits ?? params.powLimitBits;
  for (let nonce = 0; ; nonce++) {
    const h = new BlockHeader(opts.version ?? 4, new Uint8Array(32), root, opts.time ?? T0, bits, nonce);
    if (checkProofOfWork(h.hash(), bits, params) === (opts.pow ?? true)) return h;
  }
}

function block(txs: Tx[], opts: Parameters<typeof header>[1] = {}, params: ChainParams = regtest): Block {
  return new Block(header(txs, opts, params), txs);
}

test('a well-formed block passes checkBlock', () => {
  checkBlock(block([cb(1), spend([outpoint(1)], [5n])]), regtest);
  checkBlock(block([cb(1)]), regtest);
});

test('high-hash: hash above target, or bits above the proof-of-work limit', () => {
  assertReject(() => checkBlockHeader(header([cb(1)], { pow: false }), regtest), 'high-hash');
  assertReject(() => checkBlock(block([cb(1)], { pow: false }), regtest), 'high-hash');
  // 0x2100ffff decodes above regtest's limit: rejected whatever the hash.
  const tooEasy = new BlockHeader(4, new Uint8Array(32), new Uint8Array(32), T0, 0x2100ffff, 0);
  assertReject(() => checkBlockHeader(tooEasy, regtest), 'high-hash');
});

test('bad-txnmrklroot is reported as possible corruption', () => {
  const txs = [cb(1), spend([outpoint(1)], [5n])];
  const e = assertReject(
    () => checkBlock(block(txs, { root: new Uint8Array(32).fill(7) }), regtest),
    'bad-txnmrklroot',
  );
  assert.equal(e.corruptionPossible, true);
});

test('bad-txns-duplicate: CVE-2012-2459 mutated tree with the honest root', () => {
  const a = spend([outpoint(1)], [5n]);
  const b = spend([outpoint(2)], [6n]);
  const honest = block([cb(1), a, b]);
  checkBlock(honest, regtest);
  const mutated = new Block(honest.header, [cb(1), a, b, b]);
  assert.deepEqual(mutated.merkle().root, honest.header.merkleRoot);
  const e = assertReject(() => checkBlock(mutated, regtest), 'bad-txns-duplicate');
  assert.equal(e.corruptionPossible, true);
  assert.equal(e.category, 'consensus');
});

test('bad-blk-length: no transactions, or more bytes than maxBlockSize', () => {
  // An empty block's merkle root is all zeros, so it gets past the root check.
  const e = assertReject(() => checkBlock(block([]), regtest), 'bad-blk-length');
  assert.equal(e.corruptionPossible, false);
  const small = { ...regtest, maxBlockSize: 1000 };
  const big = new Tx(1, [new TxIn(outpoint(1), new Uint8Array(0))], [new TxOut(1n, new Uint8Array(900))], 0);
  checkBlock(block([cb(1), spend([outpoint(2)], [1n])], {}, small), small);
  assertReject(() => checkBlock(block([cb(1), big], {}, small), small), 'bad-blk-length');
});

test('bad-cb-missing / bad-cb-multiple', () => {
  assertReject(() => checkBlock(block([spend([outpoint(1)], [5n])]), regtest), 'bad-cb-missing');
  assertReject(() => checkBlock(block([cb(1), cb(2)]), regtest), 'bad-cb-multiple');
});

test('a transaction failing CheckTransaction rejects the block with its reason', () => {
  const e = assertReject(
    () => checkBlock(block([cb(1), spend([outpoint(1)], [-1n])]), regtest),
    'bad-txns-vout-negative',
  );
  assert.match(e.debug ?? '', /transaction check failed/);
  assertReject(
    () => checkBlock(block([cb(1), spend([outpoint(1), outpoint(1)], [1n])]), regtest),
    'bad-txns-inputs-duplicate',
  );
  assertReject(() => checkBlock(block([coinbase(Uint8Array.of(1))]), regtest), 'bad-cb-length');
});

test('bad-blk-sigops: legacy sigops over maxBlockSigops', () => {
  const p = { ...regtest, maxBlockSigops: 10 };
  const checksigs = (n: number) => new TxOut(1n, new Uint8Array(n).fill(0xac));
  const tx = (n: number) => new Tx(1, [new TxIn(outpoint(1), new Uint8Array(0))], [checksigs(n)], 0);
  checkBlock(block([cb(1), tx(10)], {}, p), p);
  assertReject(() => checkBlock(block([cb(1), tx(11)], {}, p), p), 'bad-blk-sigops');
  // OP_CHECKMULTISIG counts 20 when not preceded by a small-number push.
  const multi = new Tx(
    1,
    [new TxIn(outpoint(1), new Uint8Array(0))],
    [new TxOut(1n, Uint8Array.of(0xae))],
    0,
  );
  assert.equal(transactionSigOpCount(multi, [new Uint8Array(0)], false), 20);
});

test('transactionSigOpCount adds P2SH redeem-script sigops when P2SH is active', () => {
  // Redeem script: OP_CHECKSIG OP_CHECKSIG, pushed as the last scriptSig item.
  const redeem = Uint8Array.of(0xac, 0xac);
  const spendP2sh = new Tx(
    1,
    [new TxIn(outpoint(1), Uint8Array.of(0x02, ...redeem))],
    [new TxOut(1n, Uint8Array.of(0x51))],
    0,
  );
  const p2shScript = Uint8Array.of(0xa9, 0x14, ...new Uint8Array(20), 0x87);
  assert.equal(transactionSigOpCount(spendP2sh, [p2shScript], false), 0);
  assert.equal(transactionSigOpCount(spendP2sh, [p2shScript], true), 2);
  checkBlockSigOps(20_000, regtest);
  assertReject(() => checkBlockSigOps(20_001, regtest), 'bad-blk-sigops');
});

const hctx = { height: 10, medianTimePast: T0 - 1, expectedBits: regtest.powLimitBits };

test('contextual header: a good header passes', () => {
  contextualCheckBlockHeader(header([cb(10)]), hctx, regtest, T0);
});

test('bad-diffbits', () => {
  assertReject(
    () => contextualCheckBlockHeader(header([cb(10)]), { ...hctx, expectedBits: 0x1d00ffff }, regtest, T0),
    'bad-diffbits',
  );
});

test('time-too-old: time must be after the median time past', () => {
  assertReject(
    () => contextualCheckBlockHeader(header([cb(10)]), { ...hctx, medianTimePast: T0 }, regtest, T0),
    'time-too-old',
  );
});

test('time-too-new: at most two hours ahead of the clock, not cached as invalid', () => {
  const h = header([cb(10)], { time: T0 + MAX_FUTURE_BLOCK_TIME });
  contextualCheckBlockHeader(h, hctx, regtest, T0);
  const e = assertReject(() => contextualCheckBlockHeader(h, hctx, regtest, T0 - 1), 'time-too-new');
  assert.equal(e.corruptionPossible, true);
  assert.equal(e.dos, 0);
});

test('bad-version once BIP34/66/65 are active', () => {
  const p = { ...regtest, bip34Height: 100, bip66Height: 200, bip65Height: 300 };
  const at = (version: number, height: number) =>
    contextualCheckBlockHeader(header([cb(height)], { version }), { ...hctx, height }, p, T0);
  at(1, 99);
  assertReject(() => at(1, 100), 'bad-version(0x00000001)');
  at(2, 199);
  assertReject(() => at(2, 200), 'bad-version(0x00000002)');
  at(3, 299);
  assertReject(() => at(3, 300), 'bad-version(0x00000003)');
  at(4, 300);
  at(0x20000000, 300);
  // A negative (int32) version is below every threshold.
  assertReject(() => at(-1, 300), 'bad-version(0xffffffff)');
});

const bctx = { height: 10, medianTimePast: T0 - 1000 };

test('contextual block: finality by median time past (BIP113) and bad-txns-nonfinal', () => {
  contextualCheckBlock(
    block([cb(10), spend([outpoint(1)], [1n], { locktime: 9, sequences: [0] })]),
    bctx,
    regtest,
  );
  assertReject(
    () =>
      contextualCheckBlock(
        block([cb(10), spend([outpoint(1)], [1n], { locktime: 10, sequences: [0] })]),
        bctx,
        regtest,
      ),
    'bad-txns-nonfinal',
  );
  // Locked to a time between the parent's MTP and the block's own time: final only before BIP113.
  const timeLocked = spend([outpoint(1)], [1n], { locktime: T0 - 500, sequences: [0] });
  const b = block([cb(10), timeLocked]);
  assertReject(() => contextualCheckBlock(b, bctx, regtest), 'bad-txns-nonfinal');
  contextualCheckBlock(b, bctx, { ...regtest, csvHeight: 11 });
});

test('bad-cb-height: BIP34 coinbase height once active', () => {
  contextualCheckBlock(block([cb(10)]), bctx, regtest);
  assertReject(() => contextualCheckBlock(block([cb(11)]), bctx, regtest), 'bad-cb-height');
  assertReject(
    () => contextualCheckBlock(block([coinbase(Uint8Array.of(1, 2))]), bctx, regtest),
    'bad-cb-height',
  );
  contextualCheckBlock(block([coinbase(Uint8Array.of(1, 2))]), bctx, { ...regtest, bip34Height: 11 });
});

// Real Bitcoin blocks and transactions (bcoin, btcd, Bitcoin Core, bitcoinjs-lib vectors): decode,
// re-encode byte for byte, block hash, txids and merkle root (not mutated) against known values.
// Also bitcoinjs-lib's legacy transaction.json cases and crypto.json hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import {
  BufferReader,
  DecodeError,
  bytesToHex,
  equalBytes,
  hexToBytes,
  reverseHex,
} from '../../src/primitives/bytes.js';
import { Tx } from '../../src/primitives/tx.js';
import { scriptToAddress } from '../../src/primitives/address.js';
import { hash160, sha256d } from '../../src/crypto/hash.js';
import { readVector, readVectorJson } from '../vectors.js';

const GENESIS = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
const MAIN = { pubkeyHash: 0, scriptHash: 5, wif: 128 };

/** Decodes, re-encodes and checks the merkle root; returns the block. */
function checkBlock(raw: Uint8Array, hash: string): Block {
  const block = Block.decode(raw);
  assert.ok(equalBytes(block.encode(), raw), `${hash}: re-encoding differs`);
  // Rebuild from fresh objects so the check does not rest on the cached raw bytes.
  const rebuilt = new Block(
    block.header,
    block.txs.map((t) => new Tx(t.version, t.inputs, t.outputs, t.locktime)),
  );
  assert.ok(equalBytes(rebuilt.encode(), raw), `${hash}: rebuilt encoding differs`);
  assert.equal(block.hashHex(), hash);
  assert.equal(block.size, raw.length);
  const { root, mutated } = rebuilt.merkle();
  assert.ok(equalBytes(root, block.header.merkleRoot), `${hash}: merkle root`);
  assert.equal(mutated, false);
  assert.ok(block.txs[0].isCoinbase(), `${hash}: first tx is the coinbase`);
  assert.ok(
    block.txs.slice(1).every((t) => !t.isCoinbase()),
    `${hash}: only one coinbase`,
  );
  return block;
}

/** Inputs of the non-coinbase transactions (the count SOURCES.md quotes). */
function spentInputs(b: Block): number {
  return b.txs.slice(1).reduce((n, t) => n + t.inputs.length, 0);
}

/** btcd's .dat framing (Bitcoin Core's blk*.dat): magic u32 LE, length u32 LE, raw block. */
function frames(data: Uint8Array): Uint8Array[] {
  const r = new BufferReader(data);
  const out: Uint8Array[] = [];
  while (r.remaining > 0) {
    assert.equal(r.u32('magic'), 0xd9b4bef9);
    const len = r.u32('length');
    out.push(r.bytes(len, 'block'));
  }
  return out;
}

test('bcoin block1.raw: mainnet block 1', () => {
  const b = checkBlock(
    readVector('bcoin', 'block1.raw'),
    '00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048',
  );
  assert.equal(reverseHex(b.header.prevHash), GENESIS);
  assert.equal(b.txs[0].txidHex(), '0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098');
});

test('btcd blocks1-256.dat: 255 linked mainnet blocks, block 170 and its first P2P payment', () => {
  const raws = frames(readVector('btcd', 'blocks1-256.dat'));
  assert.equal(raws.length, 255);
  let prev = GENESIS;
  const withPayments: number[] = [];
  const blocks = raws.map((raw, i) => {
    const b = Block.decode(raw);
    const block = checkBlock(raw, b.hashHex());
    assert.equal(reverseHex(block.header.prevHash), prev, `height ${i + 1} links`);
    prev = block.hashHex();
    if (block.txs.length > 1) withPayments.push(i + 1);
    return block;
  });
  assert.equal(blocks[0].hashHex(), '00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048');
  assert.deepEqual(withPayments, [170, 181, 182, 183, 187, 221, 248]);
  const b170 = blocks[169];
  assert.equal(b170.hashHex(), '00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee');
  const pay = b170.txs[1];
  assert.equal(pay.txidHex(), 'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16');
  // It spends block 9's coinbase output 0.
  const cb9 = blocks[8].txs[0];
  assert.ok(cb9.txidHex().startsWith('0437cd7f') && cb9.txidHex().endsWith('97c9'));
  assert.ok(equalBytes(pay.inputs[0].prevout.hash, cb9.txid()));
  assert.equal(pay.inputs[0].prevout.index, 0);
});

test('btcd 277647.dat: framed block, 213 txs, 732 inputs, every output P2PKH', () => {
  const [raw] = frames(readVector('btcd', '277647.dat'));
  const b = checkBlock(raw, '0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8');
  assert.equal(b.txs.length, 213);
  assert.equal(spentInputs(b), 732);
  assert.equal(b.header.bits, 0x1903a30c);
  for (const t of b.txs)
    for (const o of t.outputs) assert.match(scriptToAddress(o.scriptPubKey, MAIN) ?? '', /^1/);
});

test('bcoin block300025.raw: 461 txs, 1427 inputs, 1221 P2PKH outputs', () => {
  const b = checkBlock(
    readVector('bcoin', 'block300025.raw'),
    '0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c',
  );
  assert.equal(b.txs.length, 461);
  assert.equal(spentInputs(b), 1427);
  const p2pkh = b.txs
    .flatMap((t) => t.outputs)
    .filter((o) => scriptToAddress(o.scriptPubKey, MAIN)?.startsWith('1'));
  assert.equal(p2pkh.length, 1221);
});

test('Bitcoin Core block413567.raw: 1557 txs, 4886 inputs, 2841 P2PKH and 737 P2SH outputs', () => {
  const b = checkBlock(
    readVector('bitcoin-core', 'block413567.raw'),
    '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069',
  );
  assert.equal(b.txs.length, 1557);
  assert.equal(b.header.version, 4);
  assert.equal(b.header.bits, 0x18058436);
  assert.equal(spentInputs(b), 4886);
  const kinds = { p2pkh: 0, p2sh: 0 };
  for (const t of b.txs)
    for (const o of t.outputs) {
      const a = scriptToAddress(o.scriptPubKey, MAIN);
      if (a?.startsWith('1')) kinds.p2pkh++;
      else if (a?.startsWith('3')) kinds.p2sh++;
    }
  assert.deepEqual(kinds, { p2pkh: 2841, p2sh: 737 });
});

interface JsBlock {
  description: string;
  id: string;
  hash: string;
  hex: string;
  merkleRoot: string;
  prevHash: string;
  version: number;
  timestamp: number;
  bits: number;
  nonce: number;
  witnessCommit?: string;
}

test('bitcoinjs block.json: headers and pre-SegWit blocks; SegWit block skipped', (t) => {
  const f = readVectorJson<{ valid: JsBlock[]; invalid: { hex: string }[] }>('bitcoinjs-lib', 'block.json');
  let passed = 0;
  let skipped = 0;
  for (const v of f.valid) {
    if (v.witnessCommit) {
      skipped++;
      continue;
    }
    const raw = hexToBytes(v.hex);
    const header = raw.length === 80 ? BlockHeader.decode(raw) : checkBlock(raw, v.id).header;
    assert.ok(equalBytes(header.encode(), raw.subarray(0, 80)));
    assert.equal(header.hashHex(), v.id, v.description);
    assert.equal(bytesToHex(header.hash()), v.hash);
    assert.equal(bytesToHex(header.merkleRoot), v.merkleRoot);
    assert.equal(bytesToHex(header.prevHash), v.prevHash);
    assert.deepEqual(
      [header.version, header.time, header.bits, header.nonce],
      [v.version, v.timestamp, v.bits, v.nonce],
    );
    passed++;
  }
  assert.equal(passed, 7);
  assert.equal(skipped, 1);
  for (const v of f.invalid) assert.throws(() => BlockHeader.decode(hexToBytes(v.hex)), DecodeError);
  t.diagnostic(`${passed} headers/blocks passed, ${skipped} SegWit block skipped`);
});

test('bitcoinjs core/blocks.json: old Bitcoin Core test blocks', () => {
  const f = readVectorJson<{ id: string; transactions: number; hex: string }[]>(
    'bitcoinjs-lib',
    'core',
    'blocks.json',
  );
  assert.equal(f.length, 5);
  for (const v of f) {
    const b = checkBlock(hexToBytes(v.hex), v.id);
    assert.equal(b.txs.length, v.transactions);
  }
});

interface JsTx {
  description: string;
  id: string;
  hash: string;
  hex: string;
  coinbase: boolean;
  raw: {
    version: number;
    locktime: number;
    ins: { hash: string; index: number }[];
    outs: { value: number }[];
  };
}

test('bitcoinjs transaction.json: 11 legacy valid txs round trip with their ids; witness ones skipped', (t) => {
  const f = readVectorJson<{ valid: JsTx[]; invalid: { fromBuffer: { hex: string; exception: string }[] } }>(
    'bitcoinjs-lib',
    'transaction.json',
  );
  let legacy = 0;
  for (const v of f.valid) {
    if (JSON.stringify(v.raw).includes('"witness"')) continue;
    const raw = hexToBytes(v.hex);
    const tx = Tx.decode(raw);
    assert.ok(equalBytes(tx.encode(), raw));
    assert.ok(equalBytes(new Tx(tx.version, tx.inputs, tx.outputs, tx.locktime).encode(), raw));
    assert.equal(tx.txidHex(), v.id, v.description);
    assert.equal(bytesToHex(tx.txid()), v.hash);
    assert.equal(tx.isCoinbase(), v.coinbase);
    assert.equal(tx.version, v.raw.version);
    assert.equal(tx.locktime, v.raw.locktime);
    assert.deepEqual(
      tx.inputs.map((i) => [bytesToHex(i.prevout.hash), i.prevout.index]),
      v.raw.ins.map((i) => [i.hash, i.index]),
    );
    assert.deepEqual(
      tx.outputs.map((o) => o.value),
      v.raw.outs.map((o) => BigInt(o.value)),
    );
    legacy++;
  }
  assert.equal(legacy, 11);
  const trailing = f.invalid.fromBuffer.find((e) => /unexpected data/.test(e.exception));
  assert.ok(trailing);
  assert.throws(() => Tx.decode(hexToBytes(trailing.hex)), /trailing bytes/);
  t.diagnostic(`${legacy} legacy txs passed, ${f.valid.length - legacy} witness txs skipped`);
});

test('bitcoinjs crypto.json: hash160 and hash256 (double SHA-256)', () => {
  const f = readVectorJson<{ hashes: { hex: string; hash160: string; hash256: string }[] }>(
    'bitcoinjs-lib',
    'crypto.json',
  );
  assert.equal(f.hashes.length, 4);
  for (const h of f.hashes) {
    const data = hexToBytes(h.hex);
    assert.equal(bytesToHex(hash160(data)), h.hash160);
    assert.equal(bytesToHex(sha256d(data)), h.hash256);
  }
});

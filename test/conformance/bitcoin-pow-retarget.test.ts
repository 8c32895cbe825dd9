// Bitcoin mainnet under the `bitcoin` preset: real blocks and header runs link, meet their proof
// of work, and every bits value (the retargets included) is what getNextWorkRequired asks for;
// chain work increments are blockWork; electrum's per-period targets agree; Core's mainnet_alt
// retarget hits the x4 clamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Block, BlockHeader, HEADER_SIZE } from '../../src/primitives/block.js';
import { BufferReader, bytesToHex, hexToBytes } from '../../src/primitives/bytes.js';
import { getParams } from '../../src/consensus/params.js';
import { blockWork, checkProofOfWork, compactToTarget, targetToCompact } from '../../src/consensus/pow.js';
import { getNextWorkRequired, type HeaderInfo } from '../../src/consensus/retarget.js';
import { readVector, readVectorJson, vectorPath } from '../vectors.js';

const btc = getParams('bitcoin');

interface Boundary {
  height: number;
  header: string;
  chainwork: string;
}
const boundary = readVectorJson<Boundary[]>('headers', 'ckb_mainnet_period_boundary_headers.json').map(
  (b) => ({
    height: b.height,
    header: BlockHeader.decode(hexToBytes(b.header)),
    chainwork: BigInt('0x' + b.chainwork),
  }),
);
const boundaryAt = new Map(boundary.map((b) => [b.height, b.header]));
const chainworkAt = new Map(boundary.map((b) => [b.height, b.chainwork]));
const cw = (h: number) => chainworkAt.get(h)!;

function info(height: number, h: BlockHeader): HeaderInfo {
  return { height, time: h.time, bits: h.bits };
}

/**
 * Checks a continuous run starting at `firstHeight`: each header meets its bits, links to the one
 * before, and carries the bits getNextWorkRequired asks for. Ancestors come from the run or, before
 * it, from the boundary file. Returns how many retargets (heights 2016k) were checked.
 */
function checkRun(firstHeight: number, headers: BlockHeader[], parentHash?: Uint8Array): number {
  const getAncestor = (h: number): HeaderInfo => {
    const i = h - firstHeight;
    if (i >= 0 && i < headers.length) return info(h, headers[i]);
    const b = boundaryAt.get(h);
    if (!b) throw new Error(`no header for height ${h}`);
    return info(h, b);
  };
  let retargets = 0;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    const height = firstHeight + i;
    assert.ok(checkProofOfWork(h.hash(), h.bits, btc), `PoW at ${height}`);
    const parent = i > 0 ? headers[i - 1].hash() : parentHash;
    if (parent) assert.equal(bytesToHex(h.prevHash), bytesToHex(parent), `link at ${height}`);
    if (height === 0) continue;
    const prev = getAncestor(height - 1);
    assert.equal(getNextWorkRequired(prev, getAncestor, btc), h.bits, `bits at ${height}`);
    if (height % 2016 === 0) retargets++;
  }
  return retargets;
}

test('bitcoin preset genesis is the real one, byte for byte', () => {
  const { valid } = readVectorJson<{ valid: { description: string; hex: string; id: string }[] }>(
    'bitcoinjs-lib',
    'block.json',
  );
  const g = valid.find((v) => v.description === 'Genesis Block');
  assert.ok(g);
  assert.equal(bytesToHex(btc.genesis.encode()), g.hex);
  assert.equal(btc.genesis.hashHex(), '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f');
  assert.equal(
    btc.genesis.txs[0].txidHex(),
    '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
  );
  assert.equal(bytesToHex(btc.genesis.header.encode()), bytesToHex(boundary[0].header.encode()));
});

test('btcd blocks1-256.dat: heights 1..255 link from genesis, pass PoW and keep bits', () => {
  const data = readVector('btcd', 'blocks1-256.dat');
  const r = new BufferReader(data);
  const headers: BlockHeader[] = [];
  while (r.remaining > 0) {
    assert.equal(r.u32('magic'), 0xd9b4bef9);
    const len = r.u32('length');
    const block = Block.decode(r.bytes(len, 'block'));
    assert.equal(bytesToHex(block.merkle().root), bytesToHex(block.header.merkleRoot));
    headers.push(block.header);
  }
  assert.equal(headers.length, 255);
  checkRun(1, headers, btc.genesisHash);
});

test('ckb continuous run 822528..830592: links, PoW, its four retargets and the one at its first block', () => {
  const data = readVector('headers', 'ckb_mainnet_headers_822528_830592.bin');
  assert.equal(data.length, 8065 * HEADER_SIZE);
  const headers = Array.from({ length: 8065 }, (_, i) =>
    BlockHeader.decode(data.subarray(i * 80, i * 80 + 80)),
  );
  assert.equal(checkRun(822528, headers, boundaryAt.get(822527)?.hash()), 5);
  assert.equal(headers[8064].hashHex(), '00000000000000000000506183a8b30fa3224b85e82a70416e1d594bdb632fdb');
});

test('dfinity run 586657..589289 (big-endian CSV fields): links, PoW and the retarget at 588672', () => {
  const rows = readFileSync(vectorPath('headers', 'dfinity_mainnet_headers_586657_589289.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  assert.equal(rows.length, 2633);
  const wire = (field: string) => hexToBytes(field).reverse();
  const headers = rows.map((row) => {
    const [version, prev, merkle, time, bits, nonce] = row.split(',');
    return BlockHeader.decode(
      new Uint8Array([version, prev, merkle, time, bits, nonce].flatMap((f) => [...wire(f)])),
    );
  });
  assert.equal(checkRun(586657, headers, boundaryAt.get(586656)?.hash()), 1);
  assert.equal(bytesToHex(headers[588672 - 586657].encode()), bytesToHex(boundaryAt.get(588672)!.encode()));
});

test('ckb period boundaries: all 413 retargets from 2016 to 832608 reproduce, chain work matches', () => {
  const getAncestor = (h: number): HeaderInfo => {
    const b = boundaryAt.get(h);
    if (!b) throw new Error(`no boundary header at ${h}`);
    return info(h, b);
  };
  let retargets = 0;
  let changed = 0;
  assert.equal(boundary[0].chainwork, blockWork(btc.genesis.header.bits));
  for (let k = 1; k <= 413; k++) {
    const last = boundaryAt.get(2016 * k - 1)!;
    const next = boundaryAt.get(2016 * k)!;
    assert.ok(checkProofOfWork(last.hash(), last.bits, btc));
    assert.ok(checkProofOfWork(next.hash(), next.bits, btc));
    assert.equal(bytesToHex(next.prevHash), bytesToHex(last.hash()));
    assert.equal(
      getNextWorkRequired(info(2016 * k - 1, last), getAncestor, btc),
      next.bits,
      `retarget at ${2016 * k}`,
    );
    retargets++;
    if (next.bits !== last.bits) changed++;
    assert.equal(cw(2016 * k) - cw(2016 * k - 1), blockWork(next.bits));
    assert.equal(cw(2016 * k - 1) - cw(2016 * (k - 1)), 2015n * blockWork(last.bits));
  }
  assert.equal(retargets, 413);
  assert.equal(changed, 398);
});

test('electrum checkpoints: 473 per-period targets are compact-exact and agree with the headers', () => {
  const points = readVectorJson<[string, number | string][]>('headers', 'electrum_mainnet_checkpoints.json');
  assert.equal(points.length, 473);
  // JSON numbers above 2^53 lose digits in JSON.parse; read the decimal text instead.
  const text = readFileSync(vectorPath('headers', 'electrum_mainnet_checkpoints.json'), 'utf8');
  const targets = [...text.matchAll(/"[0-9a-f]{64}",\s*(\d+)\s*\]/g)].map((m) => BigInt(m[1]));
  assert.equal(targets.length, 473);
  for (let i = 0; i < points.length; i++) {
    const target = targets[i];
    assert.equal(compactToTarget(targetToCompact(target)).target, target, `entry ${i}`);
    const last = boundaryAt.get(2016 * (i + 1) - 1);
    const first = boundaryAt.get(2016 * (i + 1));
    if (!last || !first) continue;
    assert.equal(last.hashHex(), points[i][0]);
    assert.equal(compactToTarget(first.bits).target, target, `target of period ${i + 1}`);
  }
});

test('Core mainnet_alt.json: the retarget at 2016 clamps to x4, 0x1d00ffff -> 0x1c3fffc0', () => {
  const { timestamps } = readVectorJson<{ timestamps: number[] }>('bitcoin-core', 'mainnet_alt.json');
  const chain: HeaderInfo[] = [info(0, btc.genesis.header)];
  timestamps.forEach((time, i) => chain.push({ height: i + 1, time, bits: 0x1d00ffff }));
  const getAncestor = (h: number) => chain[h];
  for (let h = 1; h < 2016; h++)
    assert.equal(getNextWorkRequired(chain[h - 1], getAncestor, btc), 0x1d00ffff);
  assert.equal(getNextWorkRequired(chain[2015], getAncestor, btc), 0x1c3fffc0);
});

// Headers pre-sync (Core's HeadersSyncState): a low-work chain is counted and dropped, leaving
// nothing but a few bits; a chain that proves its work is fetched again and released in order;
// a chain swapped between the two passes, a header with bad proof of work or bits, a broken
// sequence and a chain longer than the clock allows all abort it. Then the same through a P2PNode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { BlockHeader } from '../../src/primitives/block.js';
import { blockWork } from '../../src/consensus/pow.js';
import { HeadersSyncState, type HeadersSyncResult } from '../../src/p2p/headers-sync.js';
import { MAX_HEADERS } from '../../src/p2p/messages.js';
import { EASY_BITS, FakeChain, badPowHeader, genesis, mineHeader } from './fake-chain.js';
import { RawPeer, startNode, waitFor } from './helpers.js';

const W = blockWork(EASY_BITS);
const G = genesis().header;

/** `n` easy headers after `from` (time advancing one second each), tagged so chains differ. */
function headerChain(n: number, tag: number, from: BlockHeader = G): BlockHeader[] {
  const out: BlockHeader[] = [];
  let prev = from;
  const root = new Uint8Array(32).fill(tag);
  for (let i = 0; i < n; i++) {
    prev = mineHeader(prev.hash(), root, from.time + 1 + i);
    out.push(prev);
  }
  return out;
}

const chain = new FakeChain();
const start = chain.headerSummary(G.hash())!;
const now = G.time + 10 * 24 * 3600;

function state(
  minBlocks: number,
  o: { period?: number; buffer?: number; at?: number } = {},
): HeadersSyncState {
  return new HeadersSyncState({
    start,
    minimumWork: start.chainWork + W * BigInt(minBlocks),
    check: (prev, h) => chain.checkHeaderLink(prev, h),
    now: o.at ?? now,
    salt: randomBytes(16),
    commitmentPeriod: o.period,
    redownloadBuffer: o.buffer,
  });
}

/** Feeds a chain in batches of `batch`, the last one short unless the chain ends on a full one. */
function feed(s: HeadersSyncState, headers: BlockHeader[], batch: number): HeadersSyncResult[] {
  const out: HeadersSyncResult[] = [];
  for (let i = 0; i < headers.length; i += batch) {
    const part = headers.slice(i, i + batch);
    out.push(s.process(part, part.length === batch));
    if (!out[out.length - 1].ok || !out[out.length - 1].requestMore) break;
  }
  return out;
}

const chainA = headerChain(3_000, 1);

test('a low-work chain is counted and dropped: nothing released, a few bits held', () => {
  const s = state(5_000, { period: 10 });
  const rs = feed(s, chainA, 700);
  const last = rs[rs.length - 1];
  assert.equal(last.ok, true);
  assert.equal(last.lowWork, true);
  assert.equal(last.requestMore, false);
  assert.equal(rs.flatMap((r) => r.headers).length, 0);
  assert.equal(s.presyncHeight, 3_000);
  assert.equal(s.phase, 'final');
  // 300 commitment bits: well under a kilobyte, where the headers themselves were 240 kB.
  assert.ok(s.memoryBytes <= 64, `held ${s.memoryBytes} bytes`);
});

test('a chain that proves its work is fetched again and released in order, all of it', () => {
  const s = state(2_500, { period: 7, buffer: 400 });
  // Pre-sync: until the work is reached the peer is asked for more, then to start again.
  const pre = s.process(chainA.slice(0, 2_000), true);
  assert.deepEqual([pre.ok, pre.requestMore, pre.headers.length, s.phase], [true, true, 0, 'presync']);
  const reached = s.process(chainA.slice(2_000, 2_600), false);
  assert.deepEqual([reached.ok, reached.requestMore, s.phase], [true, true, 'redownload']);
  assert.equal(s.continueFrom(), start.hash);
  // Redownload: headers come out 400 behind, then all once the work is reached again.
  const r1 = s.process(chainA.slice(0, 1_000), true);
  assert.equal(r1.headers.length, 600);
  assert.equal(r1.headers[0], chainA[0]);
  const r2 = s.process(chainA.slice(1_000, 2_000), true);
  assert.equal(r2.headers.length, 1_000);
  const r3 = s.process(chainA.slice(2_000, 3_000), true);
  assert.equal(s.phase, 'final');
  assert.equal(r3.requestMore, true, 'a full batch at the end: the rest follows the ordinary way');
  const all = [...r1.headers, ...r2.headers, ...r3.headers];
  assert.equal(all.length, 3_000);
  all.forEach((h, i) => assert.equal(h, chainA[i]));
});

test('a message fed in slices (sync.ts yields between them) ends as the whole message does', () => {
  const sliced = (s: HeadersSyncState, part: BlockHeader[], full: boolean): HeadersSyncResult => {
    for (let i = 0; i < part.length; i += 100) {
      const bad = s.feed(part.slice(i, i + 100));
      if (bad) return bad;
    }
    return s.conclude(full);
  };
  const [a, b] = [state(2_500, { period: 7, buffer: 400 }), state(2_500, { period: 7, buffer: 400 })];
  const script: [BlockHeader[], boolean][] = [
    [chainA.slice(0, 2_000), true],
    [chainA.slice(2_000, 2_600), false],
    [chainA.slice(0, 1_000), true],
    [chainA.slice(1_000, 3_000), true],
  ];
  for (const [part, full] of script) {
    const [x, y] = [a.process(part, full), sliced(b, part, full)];
    assert.deepEqual(
      [y.ok, y.requestMore, y.headers.length, b.phase],
      [x.ok, x.requestMore, x.headers.length, a.phase],
    );
  }
  assert.equal(b.phase, 'final');
  // Concluding with nothing fed is a peer that sent no headers; a bad header in any slice aborts.
  assert.equal(state(5_000).conclude(true).ok, false);
  const c = state(5_000);
  assert.equal(c.feed(chainA.slice(0, 100)), undefined);
  assert.equal(c.feed(chainA.slice(101, 200))?.dos, 20);
  assert.equal(c.phase, 'final');
});

test('a chain swapped between the two passes is caught by its commitments', () => {
  const s = state(2_500, { period: 1, buffer: 5_000 });
  feed(s, chainA.slice(0, 2_600), 200);
  assert.equal(s.phase, 'redownload');
  const other = headerChain(2_600, 2);
  const r = s.process(other.slice(0, 200), true);
  assert.equal(r.ok, false);
  assert.match(r.reason!, /commitment mismatch/);
  assert.equal(r.dos, 0);
  assert.equal(r.headers.length, 0);
});

test('a peer that stops while redownloading gets nothing stored', () => {
  const s = state(2_500, { period: 5, buffer: 100 });
  feed(s, chainA.slice(0, 2_600), 2_600);
  const r = s.process(chainA.slice(0, 1_000), false);
  assert.equal(r.ok, false);
  assert.equal(r.headers.length, 0);
});

test('bad proof of work or bits scores 100, a broken sequence 20', () => {
  const bad = badPowHeader(chainA[9].hash(), chainA[9].time + 1);
  let r = state(5_000).process([...chainA.slice(0, 10), bad], true);
  assert.deepEqual([r.ok, r.dos], [false, 100]);
  assert.match(r.reason!, /high-hash/);
  const wrongBits = mineHeader(chainA[9].hash(), new Uint8Array(32), chainA[9].time + 1, 0x2000ffff);
  r = state(5_000).process([...chainA.slice(0, 10), wrongBits], true);
  assert.deepEqual([r.ok, r.dos], [false, 100]);
  assert.match(r.reason!, /bad-diffbits/);
  r = state(5_000).process([...chainA.slice(0, 10), ...chainA.slice(11, 20)], true);
  assert.deepEqual([r.ok, r.dos], [false, 20]);
});

test('more headers than six a second since the fork point allows: aborted', () => {
  // Two hours of future allowance and ten seconds since genesis: 6 * 7,210 / 584 = 74 bits, 43,000 headers.
  const s = state(1_000_000, { at: G.time + 10 });
  assert.equal(s.maxCommitments, Math.floor((6 * (7_200 + 10)) / 584));
  let r: HeadersSyncResult = { ok: true, requestMore: true, headers: [] };
  let prev = G;
  for (let i = 0; r.ok && i < 30; i++) {
    const part = headerChain(MAX_HEADERS, 3, prev);
    prev = part[part.length - 1];
    r = s.process(part, true);
  }
  assert.equal(r.ok, false);
  assert.match(r.reason!, /max commitments/);
});

test('P2PNode: a full batch of low-work headers is pre-synced, never stored; a proven chain is', async () => {
  const fake = new FakeChain();
  fake.antiDoSWork = W * 3_001n; // genesis plus 3,000 blocks
  const n = await startNode({}, fake);
  try {
    const raw = await RawPeer.handshake(n.url, undefined, 3_000);
    const low = headerChain(2_500, 4);
    const asked = () => raw.received.filter((m) => m.command === 'getheaders').length;
    raw.send({ command: 'headers', headers: low.slice(0, MAX_HEADERS) });
    await waitFor(() => asked() >= 2, 5_000, 'a getheaders continuing the pre-sync');
    const cont = raw.received.filter((m) => m.command === 'getheaders').pop()!;
    assert.ok(cont.command === 'getheaders' && cont.locator[0].every((b, i) => b === low[1_999].hash()[i]));
    raw.send({ command: 'headers', headers: low.slice(MAX_HEADERS) });
    // Its chain ended below the threshold: dropped with the peer, not one header stored.
    await raw.waitClosed();
    assert.equal(fake.headersProcessed, 0);
    assert.equal(fake.headerTipHeight(), 0);
    assert.equal(n.node.isDiscouraged('127.0.0.1'), false);

    const good = headerChain(3_500, 5);
    const honest = await RawPeer.handshake(n.url, undefined, 3_500);
    // Answers every getheaders from its chain, after the first locator hash it has.
    let served = 0;
    const serve = async () => {
      for (;;) {
        const m = await honest.next('getheaders', 20_000, served);
        served = honest.received.indexOf(m) + 1;
        let from = 0;
        for (const h of m.locator) {
          const i = good.findIndex((x) => x.hash().every((b, j) => b === h[j]));
          if (i >= 0) {
            from = i + 1;
            break;
          }
        }
        honest.send({ command: 'headers', headers: good.slice(from, from + MAX_HEADERS) });
      }
    };
    void serve().catch(() => {});
    await waitFor(() => fake.headerTipHeight() === 3_500, 20_000, 'the proven chain to be stored');
    // Every header went to the chain once: after the work was proven, none before.
    assert.equal(fake.headersProcessed, 3_500);
    honest.close();
  } finally {
    await n.node.stop();
  }
});

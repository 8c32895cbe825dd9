// Several P2P nodes on 127.0.0.1 with fake chains: headers-first catch-up from two peers at once,
// a stalling peer replaced, a transaction relayed across nodes, a new block along a line of five.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvType } from '../../src/p2p/messages.js';
import { HANDOVER_RUN } from '../../src/p2p/sync.js';
import { FakeChain, buildChain, spend } from './fake-chain.js';
import { RawPeer, startNode, waitFor, type TestNode } from './helpers.js';

async function loaded(n: number, opts = {}): Promise<TestNode> {
  const chain = new FakeChain();
  await chain.load(buildChain(n));
  return startNode(opts, chain);
}

function countServed(t: TestNode): () => number {
  let served = 0;
  const orig = t.chain.getBlockBytes.bind(t.chain);
  t.chain.getBlockBytes = async (h) => {
    served++;
    return orig(h);
  };
  return () => served;
}

test('a fresh node catches up 2,100 blocks headers-first from two peers at once', async () => {
  const a = await loaded(2100);
  const b = await loaded(2100);
  const servedA = countServed(a);
  const servedB = countServed(b);
  const fresh = new FakeChain();
  let headersAtFirstBlock = -1;
  const process = fresh.processBlock.bind(fresh);
  fresh.processBlock = async (blk) => {
    if (headersAtFirstBlock < 0) headersAtFirstBlock = fresh.headerTipHeight();
    return process(blk);
  };
  // Held blocks go to the chain in runs, parents first, each extending the last.
  const runs: number[] = [];
  let supplied = 0;
  const processRun = fresh.processBlocks.bind(fresh);
  fresh.processBlocks = async (blocks, supply) => {
    runs.push(blocks.length);
    assert.equal(blocks[0].header.prevHash.toString(), fresh.tipHash().toString(), 'a run starts at the tip');
    for (let i = 1; i < blocks.length; i++)
      assert.equal(
        blocks[i].header.prevHash.toString(),
        blocks[i - 1].hash().toString(),
        'a run is in chain order',
      );
    // The blocks the chain asks for after the run continue it, in chain order.
    let last = blocks[blocks.length - 1];
    return processRun(blocks, () => {
      const b = supply?.() ?? null;
      if (b) {
        assert.equal(
          b.header.prevHash.toString(),
          last.hash().toString(),
          'a supplied block continues the run',
        );
        last = b;
        supplied++;
      }
      return b;
    });
  };
  const c = await startNode({ connect: [a.url, b.url] }, fresh);
  const seen: number[] = [];
  const timer = setInterval(() => {
    const p = c.node.progress();
    if (p.syncing && p.estimatedSecondsLeft !== null) seen.push(p.estimatedSecondsLeft);
  }, 50);
  try {
    const t0 = Date.now();
    await waitFor(() => fresh.tipHeight() === 2100, 30_000, 'catch-up');
    const ms = Date.now() - t0;
    assert.equal(fresh.tipHash().toString(), a.chain.tipHash().toString());
    assert.ok(headersAtFirstBlock >= 2000, `bodies were asked for after ${headersAtFirstBlock} headers`);
    assert.ok(servedA() > 100 && servedB() > 100, `served ${servedA()} + ${servedB()}`);
    assert.equal(servedA() + servedB(), 2100, 'no block fetched twice');
    const p = c.node.progress();
    assert.deepEqual([p.headers, p.blocks, p.syncing, p.fraction], [2100, 2100, false, 1]);
    assert.ok(Math.max(...runs) <= HANDOVER_RUN, `runs of ${Math.max(...runs)} blocks`);
    assert.equal(runs.reduce((a, n) => a + n, 0) + supplied, 2100, 'every block handed over once');
    assert.ok(supplied > 0, 'the chain was supplied the held blocks after a run');
    assert.ok(seen.length > 0, 'an estimate of the time left was shown while syncing');
    console.log(
      `# caught up 2100 blocks in ${ms} ms (${servedA()} from A, ${servedB()} from B) in ${runs.length} runs, ${supplied} blocks supplied after them`,
    );
  } finally {
    clearInterval(timer);
    for (const n of [c, a, b]) await n.node.stop();
  }
});

test('a peer that stalls the block download is replaced', async () => {
  const blocks = buildChain(300);
  const honest = await loaded(300);
  const c = await startNode({ timeouts: { blockStallMs: 800 }, maxBlocksInFlightPerPeer: 8 });
  const staller = await RawPeer.handshake(c.url, undefined, 300);
  try {
    // The staller serves headers (so it becomes the sync peer) but never sends a block.
    const gh = await staller.next('getheaders');
    assert.equal(gh.locator.length, 1);
    staller.send({ command: 'headers', headers: blocks.map((b) => b.header) });
    await staller.next('getdata');
    c.node.addNode(honest.url, 'add');
    await staller.waitClosed(5_000);
    await waitFor(() => c.chain.tipHeight() === 300, 15_000, 'catch-up from the honest peer');
    assert.deepEqual(c.node.listBanned(), [], 'stalling is not misbehaviour');
  } finally {
    staller.close();
    await c.node.stop();
    await honest.node.stop();
  }
});

test('a transaction accepted on A reaches B and C, and the mempool message lists it', async () => {
  const a = await startNode();
  const b = await startNode({ connect: [a.url] });
  const c = await startNode({ connect: [b.url] });
  try {
    await waitFor(() => b.node.peerInfo().filter((p) => p.ready).length === 2, 5_000, 'B connected');
    const tx = spend(77);
    assert.equal((await a.mempool.accept(tx)).accepted, true);
    await waitFor(() => c.mempool.has(tx.txid()), 5_000, 'tx at C');
    assert.ok(b.mempool.has(tx.txid()));
    const raw = await RawPeer.handshake(c.url);
    raw.send({ command: 'mempool' });
    const inv = await raw.next('inv');
    assert.deepEqual(inv.items, [{ type: InvType.TX, hash: tx.txid() }]);
    raw.close();
  } finally {
    for (const n of [c, b, a]) await n.node.stop();
  }
});

test('a block mined on the first of a line of five nodes reaches the last', async () => {
  const nodes: TestNode[] = [await startNode()];
  for (let i = 1; i < 5; i++) nodes.push(await startNode({ connect: [nodes[i - 1].url] }));
  try {
    await waitFor(
      () => nodes.slice(1, 4).every((n) => n.node.peerInfo().filter((p) => p.ready).length === 2),
      5_000,
      'the line connected',
    );
    await nodes[0].chain.mine(1);
    await waitFor(() => nodes.every((n) => n.chain.tipHeight() === 1), 5_000, 'block 1 everywhere');
    await nodes[0].chain.mine(3);
    await waitFor(() => nodes.every((n) => n.chain.tipHeight() === 4), 5_000, 'block 4 everywhere');
    const tip = nodes[0].chain.tipHash().toString();
    for (const n of nodes) assert.equal(n.chain.tipHash().toString(), tip);
  } finally {
    for (const n of nodes.reverse()) await n.node.stop();
  }
});

test('while catching up, a peer whose whole header chain is below the minimum work is dropped', async () => {
  const weak = await loaded(5);
  const chain = new FakeChain();
  chain.minimumBlocks = 50;
  const c = await startNode({ connect: [weak.url] }, chain);
  const reasons: string[] = [];
  c.node.on('disconnect', (_p, reason) => reasons.push(reason));
  try {
    // The fake chain counts itself in IBD only when headers run ahead of blocks; 5 headers do.
    await waitFor(() => reasons.length > 0, 5_000, 'a disconnect');
    assert.match(reasons[0], /minimum chain work/);
    assert.deepEqual(c.node.listBanned(), []);
  } finally {
    await c.node.stop();
    await weak.node.stop();
  }
});

test('inventory is announced once per peer and never echoed to its source', async () => {
  const a = await startNode();
  try {
    const raw = await RawPeer.handshake(a.url);
    const mine = spend(5);
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: mine.txid() }] });
    await raw.next('getdata');
    raw.send({ command: 'tx', tx: mine });
    await waitFor(() => a.mempool.has(mine.txid()), 3_000, 'tx accepted');
    const theirs = spend(6);
    await a.mempool.accept(theirs);
    await a.mempool.accept(theirs); // a second acceptance attempt announces nothing new
    const from = raw.received.length;
    raw.send({ command: 'ping', nonce: 9n });
    await raw.next('pong', 3_000, from);
    const txInvs = raw.received
      .filter((m) => m.command === 'inv')
      .flatMap((m) => (m.command === 'inv' ? m.items : []))
      .map((i) => i.hash.toString());
    assert.deepEqual(txInvs, [theirs.txid().toString()]);
    raw.close();
  } finally {
    await a.node.stop();
  }
});

test('a heavier fork is fetched from the peer that has it, not asked again of one that answered notfound', async () => {
  const p = await loaded(30);
  const r = new FakeChain();
  await r.load(buildChain(40, 1));
  const rNode = await startNode({}, r);
  const q = new FakeChain();
  await q.load(buildChain(30));
  // P first: with equal load, P is the first candidate for every block of R's branch below 30.
  const qNode = await startNode({ connect: [p.url, rNode.url] }, q);
  try {
    await waitFor(() => q.tipHeight() === 40, 10_000, 'reorg onto the heavier branch');
    assert.equal(q.tipHash().toString(), r.tipHash().toString());
  } finally {
    for (const n of [qNode, rNode, p]) await n.node.stop();
  }
});

// Transaction announcements from hostile peers, against a real P2PNode on 127.0.0.1: an inv flood
// is held to Core's per-peer bounds (100 requests in flight of at most 5,000 pending) while the
// node stays responsive; a policy-rejected transaction announced again is not fetched again (the
// recently-rejected filter); an orphan's missing parent is asked of the peer that sent it; a node
// that ignored announcements while catching up asks for the pool once it has caught up, and a
// peer's first `mempool` gets the whole pool, even what was announced to it already; a refusal a
// later block may cure, made while the tip is not the best header, is asked again once it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BufferWriter, bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn } from '../../src/primitives/tx.js';
import { InvType, MAX_INV, frame, type Message } from '../../src/p2p/messages.js';
import { MAX_BEHIND_REFUSALS } from '../../src/p2p/relay.js';
import { MAX_PEER_TX_REQUEST_IN_FLIGHT } from '../../src/p2p/txrequest.js';
import { FakeChain, HARDER_BITS, genesis, makeBlock, spend } from './fake-chain.js';
import { RawPeer, startNode, type TestNode } from './helpers.js';

async function withNode(fn: (n: TestNode) => Promise<void>): Promise<void> {
  const n = await startNode({ timeouts: { handshakeMs: 10_000 } });
  try {
    await fn(n);
  } finally {
    await n.node.stop();
  }
}

function randomInv(): Uint8Array {
  const w = new BufferWriter(9 + MAX_INV * 36);
  w.varint(MAX_INV);
  for (let i = 0; i < MAX_INV; i++) w.u32(InvType.TX).bytes(randomBytes(32));
  return frame('inv', w.finish());
}

/** Every getdata item the peer received, after a ping round trip has flushed what came before. */
async function requested(raw: RawPeer): Promise<Uint8Array[]> {
  const from = raw.received.length;
  raw.send({ command: 'ping', nonce: 99n });
  await raw.next('pong', 10_000, from);
  return raw.received.flatMap((m) => (m.command === 'getdata' ? m.items.map((i) => i.hash) : []));
}

test('inv floods of 50,000 txids are held to 100 requests in flight and cost no score', () =>
  withNode(async (n) => {
    const raw = await RawPeer.handshake(n.url);
    const msg = randomInv();
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      await raw.sendRaw(msg);
      assert.equal((await requested(raw)).length, MAX_PEER_TX_REQUEST_IN_FLIGHT);
    }
    const ms = Date.now() - t0;
    assert.ok(ms < 8_000, `four 50,000-item invs took ${ms} ms`);
    assert.equal(n.node.peerInfo()[0]?.banScore, 0);
    raw.close();
  }));

test('a policy-rejected transaction announced again is not fetched again', () =>
  withNode(async (n) => {
    const raw = await RawPeer.handshake(n.url);
    const p = spend(1);
    const nonFinal = new Tx(1, p.inputs, p.outputs, 0xdeadbeef);
    const inv: Message = { command: 'inv', items: [{ type: InvType.TX, hash: nonFinal.txid() }] };
    raw.send(inv);
    assert.equal((await requested(raw)).length, 1);
    raw.send({ command: 'tx', tx: nonFinal });
    for (let i = 0; i < 3; i++) raw.send(inv);
    assert.equal((await requested(raw)).length, 1, 'asked for once only');
    assert.equal(n.node.peerInfo()[0]?.banScore, 0);
    raw.close();
  }));

test("an orphan's missing parent is asked of the peer that sent it", () =>
  withNode(async (n) => {
    const parent = spend(5);
    const child = new Tx(
      1,
      [new TxIn(new OutPoint(parent.txid(), 0), Uint8Array.of(0x51))],
      spend(6).outputs,
      0,
    );
    const accept = n.mempool.accept.bind(n.mempool);
    n.mempool.accept = async (tx) =>
      tx === child || tx.txidHex() === child.txidHex()
        ? n.mempool.has(parent.txid())
          ? accept(tx)
          : { accepted: false, reason: 'missing-inputs', policy: true }
        : accept(tx);
    const raw = await RawPeer.handshake(n.url);
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: child.txid() }] });
    assert.equal((await requested(raw)).length, 1);
    raw.send({ command: 'tx', tx: child });
    const asked = await requested(raw);
    assert.equal(asked.length, 2);
    assert.equal(Buffer.from(asked[1]).toString('hex'), Buffer.from(parent.txid()).toString('hex'));
    raw.send({ command: 'tx', tx: parent });
    await requested(raw);
    assert.equal(n.mempool.has(parent.txid()), true);
    assert.equal(n.node.peerInfo()[0]?.banScore, 0);
    raw.close();
  }));

test('a node that ignored announcements while catching up asks for the pool once caught up', async () => {
  const chain = new FakeChain();
  let ibd = true;
  chain.isInitialBlockDownload = () => ibd;
  const n = await startNode({ timeouts: { handshakeMs: 10_000 } }, chain);
  try {
    const raw = await RawPeer.handshake(n.url);
    const tx = spend(7);
    const inv: Message = { command: 'inv', items: [{ type: InvType.TX, hash: tx.txid() }] };
    raw.send(inv);
    assert.equal((await requested(raw)).length, 0, 'not asked while catching up');
    const from = raw.received.length;
    await chain.mine(1);
    assert.equal((await requested(raw)).length, 0, 'a tip during initial download asks nothing');
    assert.equal(raw.received.slice(from).filter((m) => m.command === 'mempool').length, 0);
    ibd = false;
    await chain.mine(1);
    await raw.next('mempool', 5_000, from);
    raw.send(inv);
    assert.equal((await requested(raw)).length, 1, 'asked once caught up');
    await chain.mine(1);
    assert.equal(raw.received.filter((m) => m.command === 'mempool').length, 1, 'asked for the pool once');
    raw.close();
  } finally {
    await n.node.stop();
  }
});

test("a peer's first mempool request gets the whole pool, later ones what it lacks", () =>
  withNode(async (n) => {
    const raw = await RawPeer.handshake(n.url);
    const invs = (from: number) =>
      raw.received.slice(from).flatMap((m) => (m.command === 'inv' ? m.items.map((i) => i.hash) : []));
    const a = spend(8);
    await requested(raw); // the node has our verack: we are a peer it announces to
    assert.equal((await n.mempool.accept(a)).accepted, true);
    await raw.next('inv');
    const ask = async (): Promise<Uint8Array[]> => {
      const from = raw.received.length;
      raw.send({ command: 'mempool' });
      await requested(raw);
      return invs(from);
    };
    assert.deepEqual(await ask(), [a.txid()], 'announced before, sent again on the first request');
    assert.deepEqual(await ask(), [], 'nothing new');
    const b = spend(9);
    n.mempool.txs.set(bytesToHex(b.txid()), b); // in the pool, never announced
    assert.deepEqual(await ask(), [b.txid()], 'only what it was not told');
    raw.close();
  }));

test('refusals a later block may cure, made behind the headers, are asked again: the newest 100', async () => {
  const chain = new FakeChain();
  let behind = true;
  // Behind: the best header is the block the next mine(1) makes (makeBlock is deterministic).
  let next: { tip: string; hash: Uint8Array } = { tip: '', hash: new Uint8Array(32) };
  chain.headerTipHash = () => {
    if (!behind) return chain.tipHash();
    if (next.tip !== bytesToHex(chain.tipHash()))
      next = {
        tip: bytesToHex(chain.tipHash()),
        hash: makeBlock(chain.tipHash(), chain.tipHeight() + 1).hash(),
      };
    return next.hash;
  };
  chain.headerTipHeight = () => chain.tipHeight() + (behind ? 1 : 0);
  chain.isInitialBlockDownload = () => false;
  const n = await startNode({ timeouts: { handshakeMs: 10_000 } }, chain);
  try {
    n.mempool.accept = async () => ({ accepted: false, reason: 'non-final', policy: true });
    const raw = await RawPeer.handshake(n.url);
    const txs = Array.from({ length: MAX_BEHIND_REFUSALS + 1 }, (_, i) => spend(100 + i));
    for (const [i, tx] of txs.entries()) {
      raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: tx.txid() }] });
      assert.equal((await requested(raw)).length, i + 1);
      raw.send({ command: 'tx', tx });
    }
    await requested(raw);
    // A refusal made caught up is not kept.
    behind = false;
    const caughtUp = spend(300);
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: caughtUp.txid() }] });
    await requested(raw);
    raw.send({ command: 'tx', tx: caughtUp });
    const before = (await requested(raw)).length;
    assert.equal(before, txs.length + 1);
    await chain.mine(1);
    const again = (await requested(raw)).slice(before).map(bytesToHex);
    const hexes = txs.map((t) => bytesToHex(t.txid()));
    assert.equal(again.length, MAX_BEHIND_REFUSALS, 'the newest refusals, asked of the peer again');
    assert.ok(!again.includes(hexes[0]), 'the oldest refusal was dropped (the bound)');
    assert.ok(again.includes(hexes[hexes.length - 1]));
    assert.ok(!again.includes(bytesToHex(caughtUp.txid())));
    assert.equal(n.node.peerInfo()[0]?.banScore, 0);
    raw.close();
  } finally {
    await n.node.stop();
  }
});

test('a refusal made with the tip on a branch as high as the best header is asked again after the reorg', async () => {
  // Blocks, not heights: the best header (B1, with a harder target) has the tip's height, so the tip
  // (A1) is behind it all the same. A refusal made then is asked again once the tip is B1. The
  // regtest rules give equal work to equal heights, so this cannot be played by real nodes.
  const chain = new FakeChain();
  await chain.mine(1);
  const b1 = makeBlock(genesis().hash(), 1, [], 7, HARDER_BITS);
  const n = await startNode({ timeouts: { handshakeMs: 10_000 } }, chain);
  try {
    const onB = () => bytesToHex(chain.tipHash()) === bytesToHex(b1.hash());
    n.mempool.accept = async () =>
      onB() ? { accepted: true } : { accepted: false, reason: 'non-final', policy: true };
    const raw = await RawPeer.handshake(n.url);
    raw.send({ command: 'headers', headers: [b1.header] });
    await requested(raw);
    assert.equal(bytesToHex(chain.headerTipHash()), bytesToHex(b1.hash()));
    assert.equal(chain.headerTipHeight(), chain.tipHeight());
    const tx = spend(400);
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: tx.txid() }] });
    assert.equal(countOf(await requested(raw), tx.txid()), 1);
    raw.send({ command: 'tx', tx });
    assert.equal(countOf(await requested(raw), tx.txid()), 1, 'refused, not asked again yet');
    raw.send({ command: 'block', block: b1 });
    await requested(raw);
    assert.ok(onB(), 'the node reorganised to B1');
    assert.equal(countOf(await requested(raw), tx.txid()), 2, 'asked again once the tip is B1');
    raw.close();
  } finally {
    await n.node.stop();
  }
});

function countOf(items: Uint8Array[], hash: Uint8Array): number {
  return items.filter((h) => bytesToHex(h) === bytesToHex(hash)).length;
}

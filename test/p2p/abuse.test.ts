// Misbehaving peers, scripted byte by byte on a raw WebSocket: each is scored as Bitcoin Core
// scores it, disconnected and banned at 100; unknown commands cost nothing; a flooding peer does
// not starve an honest one.
import { connect } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Block } from '../../src/primitives/block.js';
import { BufferWriter } from '../../src/primitives/bytes.js';
import { InvType, MAX_HEADERS, MAX_INV, MAX_PAYLOAD, frame } from '../../src/p2p/messages.js';
import { MAX_PENDING_REQUESTS } from '../../src/p2p/connman.js';
import { badPowHeader, buildChain, coinbase, genesis, makeBlock, spend } from './fake-chain.js';
import { RawPeer, oversizedFrame, rawUpgrade, startNode, waitFor, type TestNode } from './helpers.js';

// Every peer here is on 127.0.0.1, which Core never discourages: these nodes treat loopback as
// remote (discourageLocal) so that discouragement itself is tested.
async function withNode(fn: (n: TestNode, reasons: string[]) => Promise<void>): Promise<void> {
  const n = await startNode({ discourageLocal: true });
  const reasons: string[] = [];
  n.node.on('misbehaving', (m) => reasons.push(m.reason));
  try {
    await fn(n, reasons);
  } finally {
    await n.node.stop();
  }
}

/** Discouraged hosts (in memory; misbehaviour never adds to the persisted ban list). */
const banned = (n: TestNode): string[] => {
  assert.deepEqual(n.node.listBanned(), [], 'misbehaviour is not a persisted ban');
  return n.node.isDiscouraged('127.0.0.1') ? ['127.0.0.1'] : [];
};
const score = (n: TestNode): number => n.node.peerInfo()[0]?.banScore ?? -1;

test('an oversized message is refused by the socket limit and the peer banned', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    await raw.sendRaw(frame('block', new Uint8Array(MAX_PAYLOAD + 1)));
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    assert.ok(reasons.includes('oversized message'));
  }));

test('unknown commands are ignored at no cost', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    for (let i = 0; i < 20; i++) await raw.sendRaw(frame('sendcmpct', new Uint8Array(9)));
    const from = raw.received.length;
    raw.send({ command: 'ping', nonce: 7n });
    assert.equal((await raw.next('pong', 3_000, from)).nonce, 7n);
    assert.equal(score(n), 0);
    assert.deepEqual(reasons, []);
    raw.close();
  }));

test('a truncated payload is malformed: banned', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    await raw.sendRaw(frame('ping', Uint8Array.of(1, 2, 3)));
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    assert.match(reasons[0], /malformed message: ping.nonce/);
  }));

function oversizedInv(): Uint8Array {
  const w = new BufferWriter(9 + (MAX_INV + 1) * 36);
  w.varint(MAX_INV + 1);
  for (let i = 0; i <= MAX_INV; i++) w.u32(InvType.TX).bytes(new Uint8Array(32));
  return frame('inv', w.finish());
}

test('50,001 inv items score 20 each time: banned on the fifth', () =>
  withNode(async (n) => {
    const raw = await RawPeer.handshake(n.url);
    const msg = oversizedInv();
    await raw.sendRaw(msg);
    // 1.8 MB to decode: a wide bound, as 8 test runs share 2 cores.
    await waitFor(() => score(n) === 20, 10_000, 'score 20');
    assert.equal(raw.closed, false);
    for (let i = 0; i < 4; i++) await raw.sendRaw(msg);
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
  }));

test('2,001 headers score 20', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    const w = new BufferWriter();
    w.varint(MAX_HEADERS + 1);
    const h = genesis().header.encode();
    for (let i = 0; i <= MAX_HEADERS; i++) w.bytes(h).u8(0);
    await raw.sendRaw(frame('headers', w.finish()));
    await waitFor(() => score(n) === 20, 3_000, 'score 20');
    assert.match(reasons[0], /headers.count/);
    raw.close();
  }));

test('headers with bad proof of work: banned', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    raw.send({ command: 'headers', headers: [badPowHeader(genesis().hash(), 1_700_000_600)] });
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    assert.match(reasons[0], /high-hash/);
    assert.equal(n.chain.headerTipHeight(), 0);
  }));

test('non-continuous headers score 20', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    const [b1, , b3] = buildChain(3);
    raw.send({ command: 'headers', headers: [b1.header, b3.header] });
    await waitFor(() => score(n) === 20, 3_000, 'score 20');
    assert.match(reasons[0], /non-continuous/);
    raw.close();
  }));

test('a block whose merkle root does not match its header: banned', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url, undefined, 1);
    const good = makeBlock(genesis().hash(), 1);
    raw.send({ command: 'headers', headers: [good.header] });
    const req = await raw.next('getdata', 5_000);
    assert.equal(req.items[0].type, InvType.BLOCK);
    raw.send({ command: 'block', block: new Block(good.header, [coinbase(1, 99)]) });
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    assert.match(reasons[0], /bad-txnmrklroot/);
    assert.equal(n.chain.tipHeight(), 0);
  }));

test('an unrequested block scores 20', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    raw.send({ command: 'block', block: makeBlock(genesis().hash(), 1) });
    await waitFor(() => score(n) === 20, 3_000, 'score 20');
    assert.match(reasons[0], /unrequested block/);
    raw.close();
  }));

test('a consensus-invalid transaction bans; a policy rejection costs nothing', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.handshake(n.url);
    const policy = spend(1);
    const nonFinal = new (policy.constructor as typeof import('../../src/primitives/tx.js').Tx)(
      1,
      policy.inputs,
      policy.outputs,
      0xdeadbeef,
    );
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: nonFinal.txid() }] });
    await raw.next('getdata');
    raw.send({ command: 'tx', tx: nonFinal });
    const from = raw.received.length;
    raw.send({ command: 'ping', nonce: 1n });
    await raw.next('pong', 3_000, from);
    assert.equal(score(n), 0);

    const bad = spend(2, -1n);
    const from2 = raw.received.length;
    raw.send({ command: 'inv', items: [{ type: InvType.TX, hash: bad.txid() }] });
    await raw.next('getdata', 3_000, from2);
    raw.send({ command: 'tx', tx: bad });
    await raw.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    assert.match(reasons[0], /bad-txns-vout-negative/);
  }));

test('a message before version and a text frame are scored', () =>
  withNode(async (n, reasons) => {
    const raw = await RawPeer.connect(n.url);
    raw.send({ command: 'ping', nonce: 1n });
    await waitFor(() => reasons.length === 1, 3_000, 'score');
    raw.ws.send('hello');
    await raw.waitClosed();
    assert.match(reasons[1], /text frame/);
  }));

test('100 MB of junk from one peer does not starve another: pings stay near the quiet baseline', async () => {
  const n = await startNode();
  try {
    const honest = await RawPeer.handshake(n.url);
    const flood = await RawPeer.handshake(n.url);
    // The quiet baseline, on this machine now: the bound below is relative to it, since a loaded
    // machine (8 test runs on 2 cores) slows every ping, flood or not.
    const quiet: number[] = [];
    for (let i = 0n; i < 5n; i++) {
      const from = honest.received.length;
      const t0 = Date.now();
      honest.send({ command: 'ping', nonce: i });
      await honest.next('pong', 5_000, from);
      quiet.push(Date.now() - t0);
    }
    const junk = frame('junk', new Uint8Array(1_000_000).fill(0xaa));
    let sent = 0;
    const latencies: number[] = [];
    // The flood goes on until 100 MB are sent AND 5 pings were timed under it: on an idle machine
    // the node reads 100 MB faster than 3 pings and their pauses (a fresh-clone run timed 2).
    const enough = (): boolean => sent >= 100_000_000 && latencies.length >= 5;
    const flooding = (async () => {
      // Keep the sender's own buffer small so the flood is paced by the node's reading.
      while (!enough() && sent < 1_000_000_000 && !flood.closed) {
        await flood.sendRaw(junk);
        sent += junk.length;
      }
    })();
    let nonce = 1000n;
    while (!enough() && sent < 1_000_000_000 && !flood.closed) {
      const from = honest.received.length;
      const t0 = Date.now();
      honest.send({ command: 'ping', nonce: ++nonce });
      const pong = await honest.next('pong', 10_000, from);
      assert.equal(pong.nonce, nonce);
      latencies.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    await flooding;
    assert.ok(sent >= 100_000_000, `flood sent ${sent} bytes`);
    assert.ok(latencies.length >= 5, `only ${latencies.length} pings during the flood`);
    // Starvation would be seconds per ping for the whole flood; fairness keeps the median near
    // the quiet baseline and no ping waits for the flood to end.
    const sorted = [...latencies].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    const base = Math.max(...quiet);
    const detail = `quiet ${quiet.join(',')}; flood ${latencies.join(',')}`;
    assert.ok(median < Math.max(500, 10 * base), `median ping under the flood: ${detail}`);
    assert.ok(sorted[sorted.length - 1] < Math.max(3_000, 30 * base), `slowest ping: ${detail}`);
    assert.equal(n.node.peerInfo().find((p) => p.bytesRecv > 50_000_000)?.banScore, 0);
    honest.close();
    flood.close();
  } finally {
    await n.node.stop();
  }
});

test('a misbehaving local peer is disconnected, not discouraged nor banned (Core), and may return', async () => {
  const n = await startNode();
  try {
    const raw = await RawPeer.handshake(n.url);
    await raw.sendRaw(frame('ping', Uint8Array.of(1, 2, 3)));
    await raw.waitClosed();
    assert.equal(n.node.isDiscouraged('127.0.0.1'), false);
    assert.deepEqual(n.node.listBanned(), []);
    const again = await RawPeer.handshake(n.url);
    assert.equal(again.closed, false);
    again.close();
  } finally {
    await n.node.stop();
  }
});

test('a discouraged host is taken while inbound slots are free, refused when (almost) full', async () => {
  // 3 inbound slots (Core's m_max_inbound); loopback treated as remote, as in withNode.
  const n = await startNode({ discourageLocal: true, maxConnections: 4, targetOutbound: 1 });
  try {
    const holder = await RawPeer.handshake(n.url);
    const bad = await RawPeer.handshake(n.url);
    bad.ws.send('text');
    await bad.waitClosed();
    assert.deepEqual(banned(n), ['127.0.0.1']);
    // 1 inbound: 1 + 1 < 3, so Core accepts it (marked to be evicted first).
    const taken = await RawPeer.handshake(n.url);
    await waitFor(() => n.node.connectionCount().inbound === 2, 5_000, 'the discouraged host taken');
    // 2 inbound: 2 + 1 >= 3, refused at the upgrade; what it sends behind is never parsed.
    const refused = await rawUpgrade(n.url, { after: oversizedFrame() });
    assert.ok(refused.status === 403 || refused.status === 0, `answered ${refused.status}`);
    assert.deepEqual(await rawUpgrade(n.url), { status: 403, body: 'discouraged\n' });
    assert.deepEqual(n.node.connectionCount(), { inbound: 2, outbound: 0 });
    assert.ok(!holder.closed && !taken.closed, 'nobody evicted for a refused host');
    holder.close();
    taken.close();
  } finally {
    await n.node.stop();
  }
});

test('connections that never finish their HTTP request are bounded and timed out', async () => {
  // Bounded by MAX_PENDING_REQUESTS (maxconnections here is less); the handshake's time (3 s
  // here) to send the upgrade request.
  const n = await startNode({ maxConnections: 4, targetOutbound: 1, timeouts: { handshakeMs: 3_000 } });
  const extra = 7;
  try {
    const { hostname, port } = new URL(n.url);
    const closed: boolean[] = [];
    const silent = Array.from({ length: MAX_PENDING_REQUESTS + extra }, (_, i) => {
      closed[i] = false;
      const s = connect({ host: hostname, port: Number(port) });
      s.on('error', () => undefined);
      s.on('close', () => (closed[i] = true));
      return s;
    });
    const count = (): number => closed.filter(Boolean).length;
    // Past the bound, closed unread at once; those within it are left their time.
    await waitFor(() => count() >= extra, 2_000, 'sockets past the bound closed');
    assert.equal(count(), extra, 'those within the bound still open');
    await waitFor(() => count() === silent.length, 10_000, 'the silent ones timed out');
    // Nothing held: an honest peer connects.
    const honest = await RawPeer.handshake(n.url);
    assert.equal(n.node.connectionCount().inbound, 1);
    honest.close();
    for (const s of silent) s.destroy();
  } finally {
    await n.node.stop();
  }
});

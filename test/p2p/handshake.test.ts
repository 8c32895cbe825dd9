// version/verack: network magic, protocol version, self-connection, timeouts, connection caps,
// ping latency, bans set by an operator, and the address book (getaddr/addr, persistence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTHER_MAGIC, PARAMS, RawPeer, rawUpgrade, startNode, versionMsg, waitFor } from './helpers.js';

test('two nodes complete the handshake and measure ping latency', async () => {
  const a = await startNode({ timeouts: { pingIntervalMs: 200 } });
  const b = await startNode({ connect: [a.url], timeouts: { pingIntervalMs: 200 } });
  try {
    await waitFor(() => a.node.peerInfo().some((p) => p.ready) && b.node.peerInfo().some((p) => p.ready));
    const [outbound] = b.node.peerInfo();
    assert.equal(outbound.inbound, false);
    assert.equal(outbound.subver, '/Tally:0.1.0/');
    assert.equal(outbound.url, a.url);
    const [inbound] = a.node.peerInfo();
    assert.equal(inbound.inbound, true);
    assert.equal(inbound.url, b.url, 'the inbound side learns the listen URL from version.wsurl');
    assert.equal(a.node.book.get(b.url), undefined, 'a loopback listen URL is not stored (Core)');
    await waitFor(() => b.node.peerInfo()[0].pingMs !== null, 5_000, 'a pong');
    assert.ok((b.node.peerInfo()[0].pingMs as number) < 1_000);
    assert.deepEqual(b.node.connectionCount(), { inbound: 0, outbound: 1 });
  } finally {
    await b.node.stop();
    await a.node.stop();
  }
});

test('a peer of another network is refused, and not banned', async () => {
  const a = await startNode();
  const other = await startNode({ params: { ...PARAMS, magic: OTHER_MAGIC }, connect: [a.url] });
  try {
    const raw = await RawPeer.connect(a.url);
    raw.send(versionMsg(OTHER_MAGIC));
    await raw.waitClosed();
    assert.equal(raw.received.filter((m) => m.command === 'verack').length, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(other.node.peerInfo().filter((p) => p.ready).length, 0);
    assert.equal(a.node.peerInfo().filter((p) => p.ready).length, 0);
    assert.deepEqual(a.node.listBanned(), []);
  } finally {
    await other.node.stop();
    await a.node.stop();
  }
});

test('an obsolete protocol version is refused', async () => {
  const a = await startNode();
  try {
    const raw = await RawPeer.connect(a.url);
    raw.send(versionMsg(undefined, { version: 60000 }));
    await raw.waitClosed();
  } finally {
    await a.node.stop();
  }
});

test('a connection to itself is detected by the nonce and not retried', async () => {
  const a = await startNode();
  a.node.addNode(a.url, 'add');
  try {
    await waitFor(() => (a.node as unknown as { selfUrls: Set<string> }).selfUrls.has(a.url), 5_000, 'self');
    await waitFor(() => a.node.peerInfo().length === 0, 5_000, 'both ends closed');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(a.node.peerInfo().length, 0, 'not redialled');
  } finally {
    await a.node.stop();
  }
});

test('a handshake that never completes times out', async () => {
  const a = await startNode({ timeouts: { handshakeMs: 300 } });
  try {
    const silent = await RawPeer.connect(a.url);
    const t0 = Date.now();
    await silent.waitClosed(3_000);
    assert.ok(Date.now() - t0 < 2_000);
    const half = await RawPeer.connect(a.url);
    half.send(versionMsg()); // version but never verack
    await half.waitClosed(3_000);
  } finally {
    await a.node.stop();
  }
});

test('an idle peer that stops answering pings is disconnected', async () => {
  const a = await startNode({ timeouts: { pingIntervalMs: 100, idleMs: 600 } });
  try {
    const raw = await RawPeer.handshake(a.url);
    raw.answerPings = false;
    await raw.waitClosed(5_000);
    const live = await RawPeer.handshake(a.url);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(live.closed, false, 'a peer answering pings stays');
    live.close();
  } finally {
    await a.node.stop();
  }
});

test('inbound connections are capped', async () => {
  const a = await startNode({ maxConnections: 2, targetOutbound: 1 });
  try {
    const first = await RawPeer.handshake(a.url);
    // Refused at the HTTP upgrade: no WebSocket is made for it.
    assert.deepEqual(await rawUpgrade(a.url), { status: 503, body: 'too many connections\n' });
    assert.equal(first.closed, false);
    first.close();
  } finally {
    await a.node.stop();
  }
});

test('setban, listbanned and clearbanned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-ban-'));
  const a = await startNode({ banlistFile: join(dir, 'banlist.json') });
  try {
    const raw = await RawPeer.handshake(a.url);
    a.node.setBan('127.0.0.1', 'add', 60);
    await raw.waitClosed();
    assert.deepEqual(
      a.node.listBanned().map((b) => b.address),
      ['127.0.0.1'],
    );
    assert.equal(JSON.parse(readFileSync(join(dir, 'banlist.json'), 'utf8'))[0].address, '127.0.0.1');
    assert.deepEqual(await rawUpgrade(a.url), { status: 403, body: 'banned\n' });
    a.node.clearBanned();
    assert.deepEqual(a.node.listBanned(), []);
    const again = await RawPeer.handshake(a.url);
    assert.equal(again.closed, false);
    again.close();
    a.node.setBan('10.1.2.3', 'add');
    assert.equal(a.node.setBan('10.1.2.3', 'remove'), true);
  } finally {
    await a.node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('addr gossip fills the address book, getaddr answers it, and the book persists', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-peers-'));
  const file = join(dir, 'peers.json');
  // b knows two routable addresses and a private one; a learns b's answer to its getaddr (which
  // tops up a's addr token bucket by 1,000, as Core) and keeps only the routable two.
  const b = await startNode({ targetOutbound: 0 });
  for (const url of ['ws://8.8.8.8:8333', 'ws://[2606:4700::1111]:8334', 'ws://10.0.0.1:8333'])
    b.node.book.add(url, 'addr');
  const a = await startNode({ peersFile: file, connect: [b.url] });
  try {
    await waitFor(() => a.node.book.size === 2, 5_000, 'addresses');
    assert.ok(a.node.book.get('ws://8.8.8.8:8333'));
    assert.ok(a.node.book.get('ws://[2606:4700::1111]:8334'));
    assert.equal(a.node.book.get('ws://10.0.0.1:8333'), undefined, 'a private address is not stored');
    const raw = await RawPeer.handshake(a.url);
    const from = raw.received.length;
    raw.send({ command: 'getaddr' });
    const reply = await raw.next('addr', 3_000, from);
    assert.deepEqual(reply.addrs.map((x) => `${x.host}:${x.port}`).sort(), [
      '2606:4700::1111:8334',
      '8.8.8.8:8333',
    ]);
    raw.close();
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { peers: { url: string }[] };
  assert.equal(saved.peers.length, 2);
  const c = await startNode({ peersFile: file, targetOutbound: 0 });
  assert.equal(c.node.book.size, 2, 'loaded on restart');
  await c.node.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("an inbound peer's addr is rate-limited as Core's (0.1 per second, a bucket starting at 1)", async () => {
  const a = await startNode({ targetOutbound: 0 });
  try {
    const raw = await RawPeer.handshake(a.url);
    const now = Math.floor(Date.now() / 1000);
    const addrs = Array.from({ length: 1000 }, (_, i) => ({
      time: now,
      services: 1n,
      host: `8.8.${i >> 8}.${i & 255}`,
      port: 8333,
    }));
    raw.send({ command: 'addr', addrs });
    const from = raw.received.length;
    raw.send({ command: 'ping', nonce: 5n });
    await raw.next('pong', 3_000, from);
    assert.equal(a.node.book.size, 1, 'one token: one address of the thousand');
    assert.equal(a.node.peerInfo()[0].banScore, 0, 'rate limiting costs the peer nothing');
    raw.close();
  } finally {
    await a.node.stop();
  }
});

test('outbound connections are kept at the target from the address book', async () => {
  const servers = await Promise.all([0, 1, 2].map(() => startNode({ targetOutbound: 0 })));
  // Loopback addresses from the book are dialled only when configured (allowLocalAddrs).
  const a = await startNode({ targetOutbound: 2, allowLocalAddrs: true });
  try {
    for (const s of servers) a.node.book.add(s.url, 'addr');
    await waitFor(() => a.node.connectionCount().outbound === 2, 5_000, 'two outbound');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(a.node.connectionCount().outbound, 2, 'no more than the target');
    const first = a.node.peerInfo()[0];
    a.node.disconnectPeer(first.id);
    await waitFor(
      () =>
        a.node.peerInfo().filter((p) => p.ready).length === 2 &&
        !a.node.peerInfo().some((p) => p.id === first.id),
      5_000,
      'a replacement',
    );
  } finally {
    await a.node.stop();
    for (const s of servers) await s.node.stop();
  }
});

test("the network's seeds fill the address book and are dialled", async () => {
  const seed = await startNode({ targetOutbound: 0 });
  const a = await startNode({
    params: { ...PARAMS, seeds: [seed.url.replace('ws://', '')] },
    useSeeds: undefined,
  });
  try {
    assert.equal(a.node.book.get(seed.url)?.source, 'seed');
    await waitFor(
      () => a.node.peerInfo().some((p) => p.ready && p.url === seed.url),
      5_000,
      'seed connected',
    );
    assert.ok(a.node.book.get(seed.url)?.lastSuccess);
  } finally {
    await a.node.stop();
    await seed.node.stop();
  }
});

test('peers.json that cannot be written is logged once and the node goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-peers-'));
  // A file where the folder should be: every write fails (as on a full disk).
  writeFileSync(join(dir, 'folder'), '');
  const errors: string[] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_: unknown, msg?: string) => void errors.push(msg ?? ''),
    child: () => logger,
  };
  const a = await startNode({ peersFile: join(dir, 'folder', 'peers.json'), targetOutbound: 0, logger });
  try {
    a.node.book.add('ws://8.8.8.8:8333', 'addr');
    await waitFor(() => errors.length > 0, 5_000, 'a failed save');
    // Ticks of 100 ms go on finding the book changed and unsaved; none says so again.
    a.node.book.add('ws://8.8.4.4:8333', 'addr');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(errors, ['cannot save the address book; going on without']);
    const raw = await RawPeer.handshake(a.url);
    raw.close();
  } finally {
    await a.node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

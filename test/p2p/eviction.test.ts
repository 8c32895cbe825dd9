// Inbound eviction as Core's SelectNodeToEvict: protections by group, ping, recent transactions
// and blocks, and age; the youngest of the largest group goes; and, on real sockets, a node whose
// inbound slots are all taken by one address still lets an honest newcomer in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectEviction, type EvictionCandidate } from '../../src/p2p/eviction.js';
import { isLoopback, isRoutable, netGroup } from '../../src/p2p/netaddr.js';
import { RawPeer, startNode, waitFor } from './helpers.js';

const cand = (id: number, over: Partial<EvictionCandidate> = {}): EvictionCandidate => ({
  id,
  group: 'ipv4:1.2',
  groupKey: 7,
  connectedAt: 1_000 + id,
  minPingMs: 50,
  lastTxTime: 0,
  lastBlockTime: 0,
  ...over,
});

test('eviction: the youngest peer of the group with the most connections goes', () => {
  const peers = Array.from({ length: 40 }, (_, i) => cand(i));
  assert.equal(selectEviction(peers), 39);
  // One peer from another group, connected last, is not chosen: its group is smaller.
  peers.push(cand(40, { group: 'ipv4:9.9', groupKey: 1 }));
  assert.equal(selectEviction(peers), 39);
});

test('eviction: recent blocks, recent transactions and low pings protect a peer', () => {
  const peers = Array.from({ length: 40 }, (_, i) => cand(i));
  peers[39] = cand(39, { lastBlockTime: 5_000 });
  assert.notEqual(selectEviction(peers), 39, 'a recent block protects');
  peers[39] = cand(39, { lastTxTime: 5_000 });
  assert.notEqual(selectEviction(peers), 39, 'a recent transaction protects');
  peers[39] = cand(39, { minPingMs: 1 });
  assert.notEqual(selectEviction(peers), 39, 'a low ping protects');
});

test('eviction: of the unprotected, a discouraged peer (prefer_evict) goes first', () => {
  // 40 of one group, then one of another group connected earlier: the youngest of the larger group
  // goes, unless the other one was discouraged when it connected.
  const peers = Array.from({ length: 40 }, (_, i) => cand(i + 1));
  peers.push(cand(0, { group: 'ipv4:9.9', groupKey: 1, connectedAt: 1_035 }));
  assert.equal(selectEviction(peers), 40);
  peers[40] = { ...peers[40], preferEvict: true };
  assert.equal(selectEviction(peers), 0);
  // A protection still covers a discouraged peer: Core filters by prefer_evict after them.
  peers[40] = { ...peers[40], lastBlockTime: 5_000 };
  assert.equal(selectEviction(peers), 40);
});

test('eviction: too few candidates are all protected', () => {
  assert.equal(selectEviction([]), null);
  assert.equal(selectEviction(Array.from({ length: 4 }, (_, i) => cand(i))), null);
});

test('netaddr: routable, loopback and network groups as Core', () => {
  for (const h of [
    '127.0.0.1',
    '10.0.0.1',
    '169.254.169.254',
    '192.168.1.1',
    '172.16.0.1',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fc00::1',
    '2001:db8::1',
    '0.0.0.0',
    '224.0.0.1',
  ])
    assert.equal(isRoutable(h), false, h);
  for (const h of ['8.8.8.8', '172.32.0.1', '2606:4700::1111']) assert.equal(isRoutable(h), true, h);
  assert.equal(isLoopback('127.5.5.5'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('10.0.0.1'), false);
  assert.equal(netGroup('8.8.4.4'), netGroup('8.8.8.8'));
  assert.notEqual(netGroup('8.8.8.8'), netGroup('8.9.8.8'));
  assert.equal(netGroup('127.0.0.1'), netGroup('127.0.0.2'));
});

test('every inbound slot held by one address: an honest newcomer gets in by eviction', async () => {
  // 40 inbound slots: Core's protections (4 + 8 + 4 + 4, then half the rest) leave 10 to evict from.
  const n = await startNode({ maxConnections: 42, targetOutbound: 2 });
  const attackers: RawPeer[] = [];
  try {
    for (let i = 0; i < 40; i++) attackers.push(await RawPeer.handshake(n.url));
    assert.equal(n.node.connectionCount().inbound, 40);
    const honest = await RawPeer.handshake(n.url);
    await waitFor(() => attackers.filter((a) => a.closed).length === 1, 5_000, 'one attacker evicted');
    assert.equal(honest.closed, false);
    assert.equal(attackers[39].closed, true, 'the youngest of the group');
    await waitFor(() => n.node.connectionCount().inbound === 40, 5_000, 'slots back at the cap');
    honest.close();
  } finally {
    for (const a of attackers) a.close();
    await n.node.stop();
  }
});

// The transaction request tracker: Core's per-peer bounds (5,000 announcements, 100 in flight),
// one request per txid at a time, and hand-over to another announcer on notfound, leave or timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PEER_TX_ANNOUNCEMENTS,
  MAX_PEER_TX_REQUEST_IN_FLIGHT,
  TxRequestTracker,
} from '../../src/p2p/txrequest.js';

const id = (i: number) => i.toString(16).padStart(64, '0');

test('a peer is held to 5,000 announcements and 100 requests in flight', () => {
  const t = new TxRequestTracker();
  let accepted = 0;
  for (let i = 0; i < 50_000; i++) if (t.announce(1, id(i))) accepted++;
  assert.equal(accepted, MAX_PEER_TX_ANNOUNCEMENTS);
  assert.equal(t.full(1), true);
  const first = t.take(1, 0);
  assert.equal(first.length, MAX_PEER_TX_REQUEST_IN_FLIGHT);
  assert.deepEqual(first.slice(0, 2), [id(0), id(1)]);
  assert.deepEqual(t.take(1, 0), [], 'no more while 100 are in flight');
  assert.equal(t.count(1), MAX_PEER_TX_ANNOUNCEMENTS, 'requests still count against the 5,000');
  for (const k of first) t.forget(k);
  assert.equal(t.take(1, 0).length, MAX_PEER_TX_REQUEST_IN_FLIGHT);
  t.dropPeer(1);
  assert.equal(t.size(), 0);
});

test('one request per txid; notfound, leaving and timeouts hand it to the next announcer', () => {
  const t = new TxRequestTracker();
  const k = id(7);
  assert.equal(t.announce(1, k), true);
  assert.equal(t.announce(2, k), true);
  assert.equal(t.announce(3, k), true);
  assert.deepEqual(t.take(1, 0), [k]);
  assert.deepEqual(t.take(2, 0), [], 'already asked of peer 1');
  assert.equal(t.requestedOf(1, k), true);
  assert.equal(t.requestedOf(2, k), false);
  t.notFound(1, k);
  assert.deepEqual(t.take(2, 10), [k]);
  t.dropPeer(2);
  assert.deepEqual(t.take(3, 20), [k]);
  t.expire(70_000, 60_000);
  assert.equal(t.requestedOf(3, k), false);
  assert.equal(t.size(), 0, 'the timed-out request is gone with every announcement of it');
  t.announce(4, k);
  t.forget(k);
  assert.deepEqual(t.take(4, 0), []);
});

// Issue 17: a node with no peer says so at start (when it knows no address) or after a while
// (when none answered), and again every few minutes while it stays alone; never on regtest, with
// connect=0, or once a peer is connected. TallyNode.watchForNoPeers on a stand-in node, with
// node:test's mock timers so the five-minute repeat is checked without waiting for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TallyNode } from '../../src/node/node.js';

function standIn(o: { network?: string; seeds?: string[]; connect?: string[]; peers?: () => number }) {
  const lines: string[] = [];
  const node = {
    config: { connect: o.connect ?? [], seednode: [], addnode: [], chainFile: '/srv/acme.json' },
    params: { name: o.network ?? 'acme', seeds: o.seeds ?? [] },
    p2p: { connectionCount: () => ({ inbound: 0, outbound: o.peers?.() ?? 0 }) },
    log: { warn: (m: string) => lines.push(m) },
    stopping: null,
    aloneTimers: [] as NodeJS.Timeout[],
  };
  const watch = () => TallyNode.prototype.watchForNoPeers.call(node);
  const stop = () => node.aloneTimers.forEach((t) => clearTimeout(t));
  return { lines, watch, stop };
}

test('no known peer: said at start, then every five minutes, with how to add one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const n = standIn({});
  n.watch();
  assert.equal(n.lines.length, 1);
  assert.match(
    n.lines[0],
    /^no peer connected on acme: no peer address is known; .*--addnode ws:\/\/HOST:PORT.*list seeds in \/srv\/acme\.json$/,
  );
  t.mock.timers.tick(5 * 60_000 - 1);
  assert.equal(n.lines.length, 1);
  t.mock.timers.tick(1);
  assert.equal(n.lines.length, 2);
  t.mock.timers.tick(5 * 60_000);
  assert.equal(n.lines.length, 3);
  n.stop();
});

test('known seeds that do not answer: said after 30 s, not once a peer is connected', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let peers = 0;
  const n = standIn({ seeds: ['ws://192.0.2.1:1', 'ws://192.0.2.2:1'], peers: () => peers });
  n.watch();
  assert.equal(n.lines.length, 0);
  t.mock.timers.tick(30_000);
  assert.deepEqual(n.lines.length, 1);
  assert.match(n.lines[0], /none of the 2 known peer addresses answered/);
  peers = 1;
  t.mock.timers.tick(10 * 60_000);
  assert.equal(n.lines.length, 1);
  n.stop();
});

test('regtest and connect=0 never warn', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  for (const o of [{ network: 'regtest' }, { connect: ['0'] }]) {
    const n = standIn(o);
    n.watch();
    t.mock.timers.tick(20 * 60_000);
    assert.deepEqual(n.lines, []);
    n.stop();
  }
});

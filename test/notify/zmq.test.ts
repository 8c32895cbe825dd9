// ZMQ publishers: Core's frames [topic, body, 4-byte LE sequence], one counter per topic, topics
// sharing an endpoint on one socket, a bound port refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subscriber } from 'zeromq';
import { ZmqPublisher } from '../../src/notify/zmq.js';
import { freePort } from '../integration/cluster.js';

test('frames, per-topic sequence numbers and the sequence topic layout', async () => {
  const port = await freePort();
  const addr = `tcp://127.0.0.1:${port}`;
  const pub = await ZmqPublisher.start({ endpoints: { hashblock: [addr], rawtx: [addr], sequence: [addr] } });
  const sub = new Subscriber();
  try {
    assert.deepEqual(
      pub.notifications().map((n) => n.type),
      ['pubhashblock', 'pubrawtx', 'pubsequence'],
    );
    sub.connect(addr);
    sub.subscribe();
    // A subscriber joins asynchronously (ZMQ's slow joiner): publish until it hears something.
    const hash = new Uint8Array(32).fill(7);
    const got: Buffer[][] = [];
    const reader = (async () => {
      for await (const msg of sub) {
        got.push(msg);
        if (got.length >= 50) break;
      }
    })();
    for (let i = 0; i < 200 && got.length === 0; i++) {
      pub.blockTip(hash, () => new Uint8Array([1]));
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = got.length;
    pub.transaction(hash, () => new Uint8Array([9, 9]));
    pub.mempoolAdded(hash);
    pub.blockConnected(hash);
    while (got.length < before + 3) await new Promise((r) => setTimeout(r, 10));
    const first = got[0];
    assert.equal(first[0].toString(), 'hashblock');
    assert.equal(first[2].length, 4);
    const seqs = got.filter((m) => m[0].toString() === 'hashblock').map((m) => m[2].readUInt32LE(0));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
    const rest = got.slice(before);
    assert.deepEqual(
      rest.map((m) => m[0].toString()),
      ['rawtx', 'sequence', 'sequence'],
    );
    assert.deepEqual([...rest[0][1]], [9, 9]);
    assert.equal(rest[0][2].readUInt32LE(0), 0);
    assert.equal(rest[1][1].length, 32 + 1 + 8);
    assert.equal(rest[1][1][32], 0x41); // 'A'
    assert.equal(rest[1][1].readBigUInt64LE(33), 1n);
    assert.equal(rest[1][2].readUInt32LE(0), 0);
    assert.equal(rest[2][1].length, 33);
    assert.equal(rest[2][1][32], 0x43); // 'C'
    assert.equal(rest[2][2].readUInt32LE(0), 1);
    sub.close();
    await reader.catch(() => undefined);
  } finally {
    if (!sub.closed) sub.close();
    pub.close();
  }
  // A new port: ZMQ releases a closed socket's port asynchronously.
  const taken = `tcp://127.0.0.1:${await freePort()}`;
  const busy = await ZmqPublisher.start({ endpoints: { hashtx: [taken] } });
  try {
    await assert.rejects(
      ZmqPublisher.start({ endpoints: { rawblock: [taken] } }),
      /zmqpubrawblock: cannot bind tcp:\/\/127\.0\.0\.1/,
    );
  } finally {
    busy.close();
  }
});

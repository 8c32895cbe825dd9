// Message codecs: every command round-trips; every truncation, random payload and list over
// Core's limits fails with a typed MessageError, never another exception or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import {
  COMMAND_SIZE,
  MAX_ADDR,
  MAX_HEADERS,
  MAX_INV,
  MessageError,
  decodeIncoming,
  decodeMessage,
  encodeCommand,
  encodeMessage,
  frame,
  type Message,
} from '../../src/p2p/messages.js';
import { BufferWriter } from '../../src/primitives/bytes.js';
import { bytesToIp, ipToBytes, normalizeUrl, parseEndpoint } from '../../src/p2p/netaddr.js';

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const ip = fc.oneof(ipv4, fc.uint8Array({ minLength: 16, maxLength: 16 }).map(bytesToIp));
const netAddr = fc.record({ services: u64, host: ip, port: fc.nat(65535) });
const header = fc
  .tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), hash, hash, u32, u32, u32)
  .map((a) => new BlockHeader(...a));
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const tx = fc
  .tuple(
    u32,
    fc.array(fc.tuple(hash, u32, bytes(40), u32), { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), bytes(40)), { maxLength: 3 }),
    u32,
  )
  .map(
    ([v, ins, outs, lt]) =>
      new Tx(
        v,
        ins.map(([h, i, s, q]) => new TxIn(new OutPoint(h, i), s, q)),
        outs.map(([val, s]) => new TxOut(val, s)),
        lt,
      ),
  );
const inv = fc.array(fc.record({ type: u32, hash }), { maxLength: 20 });
const text = (max: number) => fc.string({ maxLength: max, unit: 'grapheme-ascii' });

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    command: fc.constant('version' as const),
    version: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    services: u64,
    timestamp: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    addrRecv: netAddr,
    addrFrom: netAddr,
    nonce: u64,
    userAgent: text(256),
    startHeight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    relay: fc.boolean(),
    magic: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    wsurl: text(256),
  }),
  fc.constantFrom<Message>(
    { command: 'verack' },
    { command: 'getaddr' },
    { command: 'sendheaders' },
    { command: 'mempool' },
  ),
  fc.record({ command: fc.constantFrom('ping' as const, 'pong' as const), nonce: u64 }),
  fc.record({
    command: fc.constant('addr' as const),
    addrs: fc.array(fc.record({ time: u32, services: u64, host: ip, port: fc.nat(65535) }), {
      maxLength: 10,
    }),
  }),
  fc.record({
    command: fc.constantFrom('inv' as const, 'getdata' as const, 'notfound' as const),
    items: inv,
  }),
  fc.record({
    command: fc.constant('getheaders' as const),
    version: u32,
    locator: fc.array(hash, { maxLength: 20 }),
    stop: hash,
  }),
  fc.record({ command: fc.constant('headers' as const), headers: fc.array(header, { maxLength: 10 }) }),
  fc.record({ command: fc.constant('tx' as const), tx }),
  fc
    .tuple(header, fc.array(tx, { maxLength: 3 }))
    .map(([h, txs]) => ({ command: 'block' as const, block: new Block(h, txs) })),
);

function expectMessageError(data: Uint8Array): void {
  try {
    decodeMessage(data);
  } catch (e) {
    assert.ok(e instanceof MessageError, `expected MessageError, got ${String(e)}`);
    assert.ok(e.dos > 0);
    return;
  }
  assert.fail(`decoded ${data.length} bytes that should fail`);
}

test('every message round-trips through encode and decode', () => {
  fc.assert(
    fc.property(message, (m) => {
      const enc = encodeMessage(m);
      const dec = decodeMessage(enc);
      assert.equal(dec.command, m.command);
      assert.equal(bytesToHex(encodeMessage(dec)), bytesToHex(enc));
    }),
    { numRuns: 400 },
  );
});

test('every truncation of a message with a payload is a typed error', () => {
  fc.assert(
    fc.property(message, (m) => {
      const enc = encodeMessage(m);
      for (let cut = 0; cut < enc.length; cut++) {
        if (cut === COMMAND_SIZE && enc.length === COMMAND_SIZE) continue;
        expectMessageError(enc.subarray(0, cut));
      }
    }),
    { numRuns: 150 },
  );
});

test('random bytes decode or fail with a typed error; unknown commands decode as unknown', () => {
  fc.assert(
    fc.property(bytes(300), (data) => {
      try {
        decodeMessage(data);
      } catch (e) {
        assert.ok(e instanceof MessageError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  const known = ['version', 'ping', 'addr', 'inv', 'getheaders', 'headers', 'block', 'tx', 'verack'];
  fc.assert(
    fc.property(fc.constantFrom(...known), bytes(400), (cmd, payload) => {
      try {
        decodeMessage(frame(cmd, payload));
      } catch (e) {
        assert.ok(e instanceof MessageError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  const m = decodeMessage(frame('sendcmpct', new Uint8Array(9)));
  assert.deepEqual(m, { command: 'unknown', name: 'sendcmpct', size: 9 });
});

test('command field must be printable ASCII padded with NULs', () => {
  const bad = new Uint8Array(COMMAND_SIZE);
  bad.set(encodeCommand('ping'));
  bad[6] = 0x41; // a letter after the NUL padding began
  expectMessageError(bad);
  expectMessageError(Uint8Array.of(0x01, ...new Uint8Array(11)));
  expectMessageError(new Uint8Array(COMMAND_SIZE)); // empty command
  expectMessageError(frame('verack', Uint8Array.of(0))); // payload on an empty message
});

function countFrame(
  command: string,
  count: number,
  itemSize: number,
  prefix: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const w = new BufferWriter(prefix.length + 9 + count * itemSize);
  w.bytes(prefix)
    .varint(count)
    .bytes(new Uint8Array(count * itemSize));
  return frame(command, w.finish());
}

test('lists over Core limits are refused with 20 points; at the limit they decode', () => {
  const over = (cmd: string, n: number, size: number, prefix: Uint8Array = new Uint8Array(0)) => {
    try {
      decodeMessage(countFrame(cmd, n, size, prefix));
      assert.fail('decoded');
    } catch (e) {
      assert.ok(e instanceof MessageError);
      assert.equal(e.dos, 20);
    }
  };
  over('inv', MAX_INV + 1, 36);
  over('getdata', MAX_INV + 1, 36);
  over('addr', MAX_ADDR + 1, 30);
  over('getheaders', 102, 32, new Uint8Array(4));
  const headers = new BufferWriter();
  headers.varint(MAX_HEADERS + 1);
  for (let i = 0; i <= MAX_HEADERS; i++) headers.bytes(new Uint8Array(81));
  assert.throws(
    () => decodeMessage(frame('headers', headers.finish())),
    (e: unknown) => e instanceof MessageError && e.dos === 20,
  );
  const ok = decodeMessage(countFrame('inv', MAX_INV, 36));
  assert.equal(ok.command === 'inv' && ok.items.length, MAX_INV);
  // A count the payload cannot hold fails before allocating anything.
  expectMessageError(frame('inv', Uint8Array.of(0xfe, 0x40, 0x9c, 0x00, 0x00)));
});

test('IP addresses round-trip between text and the 16-byte wire form', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(ipToBytes(bytesToIp(b)), b);
    }),
  );
  assert.equal(bytesToIp(ipToBytes('127.0.0.1') as Uint8Array), '127.0.0.1');
  assert.equal(bytesToIp(ipToBytes('::1') as Uint8Array), '::1');
  assert.equal(bytesToIp(ipToBytes('2001:db8::8:800:200c:417a') as Uint8Array), '2001:db8::8:800:200c:417a');
  for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', 'example.org', '1::2::3', ':::', '']) {
    assert.equal(ipToBytes(bad), null, bad);
  }
});

test('peer addresses normalise to ws URLs', () => {
  assert.equal(normalizeUrl('127.0.0.1:8333', 1), 'ws://127.0.0.1:8333');
  assert.equal(normalizeUrl('ws://127.0.0.1:80', 1), 'ws://127.0.0.1:80');
  assert.equal(normalizeUrl('wss://seed.example.org', 443), 'wss://seed.example.org:443');
  assert.equal(normalizeUrl('seed.example.org', 9333), 'ws://seed.example.org:9333');
  assert.equal(normalizeUrl('ws://[::1]:9000/', 1), 'ws://[::1]:9000');
  assert.deepEqual(parseEndpoint('[::1]:9', 1), { host: '::1', port: 9, secure: false });
  for (const bad of ['http://x:1', 'ws://u:p@x:1', 'ws://x:0', 'ws://x:70000', '']) {
    assert.equal(normalizeUrl(bad, 1), null, bad);
  }
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      const u = normalizeUrl(s, 18444);
      if (u !== null) assert.equal(normalizeUrl(u, 1), u);
    }),
    { numRuns: 1000 },
  );
});

test('decodeIncoming reads an inv in place: the same entries as decodeMessage, the same refusals', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ type: u32, hash }), { maxLength: 50 }), (items) => {
      const data = encodeMessage({ command: 'inv', items });
      const got = decodeIncoming(data);
      assert.ok(got.command === 'inv' && 'list' in got);
      assert.deepEqual(got.list.items(), (decodeMessage(data) as { items: unknown }).items);
      for (let i = 0; i < items.length; i++) {
        assert.equal(got.list.type(i), items[i].type);
        const at = got.list.hashOffset(i);
        assert.deepEqual(got.list.data.subarray(at, at + 32), items[i].hash);
      }
      // Truncated: the same MessageError (100) as decodeMessage.
      if (data.length > COMMAND_SIZE + 1) {
        const cut = data.subarray(0, data.length - 1);
        assert.throws(
          () => decodeIncoming(cut),
          (e) => e instanceof MessageError && e.dos === 100,
        );
      }
    }),
  );
  const over = new BufferWriter(8).varint(MAX_INV + 1).finish();
  assert.throws(
    () => decodeIncoming(frame('inv', over)),
    (e) => e instanceof MessageError && e.dos === 20,
  );
  // Anything else decodes as decodeMessage does.
  assert.deepEqual(decodeIncoming(encodeMessage({ command: 'verack' })), { command: 'verack' });
});

// The P2P layer's text decoders on untrusted input: peers.json and banlist.json as a damaged disk
// or a careless operator leaves them (junk is ignored with an error value, never a crash, and what
// is loaded is usable), and the address parsers peers and operators feed (URLs, IP literals,
// setban subnets): a value or null, never an exception; canonical forms are fixed points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AddressBook } from '../../src/p2p/addrbook.js';
import { BanList, parseSubnet } from '../../src/p2p/banlist.js';
import { bytesToIp, endpointToUrl, ipToBytes, normalizeUrl, parseEndpoint } from '../../src/p2p/netaddr.js';
import { equalBytes } from '../../src/primitives/bytes.js';

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
const host = fc.oneof(
  ipv4,
  ipv6.map((h) => `[${h}]`),
  fc.domain(),
  fc.string({ maxLength: 12 }),
);
const urlish = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', 'ws://', 'wss://', 'http://', 'WS://'),
      host,
      fc.option(fc.integer({ min: -1, max: 70000 })),
    )
    .map(([s, h, p]) => `${s}${h}${p === null ? '' : `:${p}`}`),
  fc.webUrl(),
  fc.string({ maxLength: 30 }),
);

test('netaddr: any text gives a canonical URL or null; the canonical URL is a fixed point', () => {
  fc.assert(
    fc.property(urlish, fc.integer({ min: 1, max: 65535 }), (text, port) => {
      const url = normalizeUrl(text, port);
      if (url === null) return;
      assert.match(url, /^wss?:\/\/.+:\d+$/);
      assert.equal(normalizeUrl(url, port), url);
      assert.equal(normalizeUrl(url, 0), url, 'a canonical URL carries its port');
      const ep = parseEndpoint(url, port)!;
      assert.equal(endpointToUrl(ep), url);
      assert.doesNotThrow(() => new URL(url));
    }),
    { numRuns: 400 },
  );
});

test('netaddr: IP text and 16-byte forms round trip; other text is null', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.ok(equalBytes(ipToBytes(bytesToIp(b))!, b));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.oneof(ipv4, ipv6), (ip) => {
      const b = ipToBytes(ip)!;
      assert.ok(b !== null, ip);
      assert.equal(bytesToIp(ipToBytes(bytesToIp(b))!), bytesToIp(b));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 50 }), (s) => {
      const b = ipToBytes(s);
      if (b !== null) assert.equal(b.length, 16);
    }),
    { numRuns: 300 },
  );
});

test('setban subnets: any text gives a subnet whose key re-parses to itself, or null', () => {
  const subnetText = fc.oneof(
    fc
      .tuple(fc.oneof(ipv4, ipv6), fc.option(fc.oneof(fc.integer({ min: -1, max: 130 }).map(String), ipv4)))
      .map(([a, m]) => (m === null ? a : `${a}/${m}`)),
    fc.string({ maxLength: 30 }),
  );
  fc.assert(
    fc.property(subnetText, (text) => {
      const net = parseSubnet(text);
      if (net === null) return;
      assert.ok(net.bits >= 0 && net.bits <= 128 && net.bytes.length === 16);
      const again = parseSubnet(net.key)!;
      assert.equal(again.key, net.key);
      assert.equal(again.bits, net.bits);
    }),
    { numRuns: 400 },
  );
});

test('peers.json and banlist.json: junk is reported and skipped, never thrown; what loads is usable', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-p2p-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const peers = join(dir, 'peers.json');
  const bans = join(dir, 'banlist.json');
  const anyValue = fc.jsonValue({ maxDepth: 2 });
  const entry = fc.oneof(
    anyValue,
    fc.record(
      {
        url: fc.oneof(urlish, anyValue),
        source: fc.oneof(fc.constantFrom('seed', 'manual', 'addr', 'announce', 'bogus'), anyValue),
        lastSeen: fc.oneof(fc.nat(), anyValue),
        lastTry: fc.oneof(fc.nat(), anyValue),
        lastSuccess: anyValue,
        attempts: fc.oneof(fc.nat({ max: 20 }), anyValue),
      },
      { requiredKeys: [] },
    ),
  );
  const ban = fc.oneof(
    anyValue,
    fc.record(
      {
        address: fc.oneof(fc.ipV4(), fc.constantFrom('10.0.0.0/8', '[::1]', 'host.example', ''), anyValue),
        createdAt: fc.oneof(fc.nat(), anyValue),
        bannedUntil: fc.oneof(fc.integer({ min: 0, max: 2e12 }), anyValue),
        reason: anyValue,
      },
      { requiredKeys: [] },
    ),
  );
  const peersText = fc.oneof(
    fc.array(entry, { maxLength: 5 }).map((p) => JSON.stringify({ version: 1, peers: p })),
    anyValue.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
  );
  const bansText = fc.oneof(
    fc.array(ban, { maxLength: 5 }).map((b) => JSON.stringify(b)),
    anyValue.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
  );
  fc.assert(
    fc.property(peersText, bansText, (p, b) => {
      writeFileSync(peers, p);
      writeFileSync(bans, b);
      const book = new AddressBook({ file: peers, now: () => 2e12 });
      const err = book.load();
      assert.ok(err === null || typeof err === 'string');
      for (const e of book.all()) {
        assert.equal(normalizeUrl(e.url, 0), e.url);
        assert.doesNotThrow(() => new URL(e.url));
        for (const n of [e.lastSeen, e.lastTry, e.lastSuccess, e.attempts])
          assert.ok(Number.isFinite(n) && n >= 0);
      }
      assert.ok(Array.isArray(book.candidates(() => false, 1000, 10)));
      const list = new BanList(bans, () => 1e12);
      const banErr = list.load();
      assert.ok(banErr === null || typeof banErr === 'string');
      for (const e of list.list()) {
        assert.ok(typeof e.address === 'string' && typeof e.reason === 'string');
        assert.ok(Number.isFinite(e.bannedUntil) && Number.isFinite(e.createdAt));
      }
      assert.equal(typeof list.isBanned('10.1.2.3'), 'boolean');
    }),
    { numRuns: 150 },
  );
});

test('peers.json and banlist.json: saved files load back; every truncation is reported, nothing loaded', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-p2p-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const peers = join(dir, 'peers.json');
  const bans = join(dir, 'banlist.json');
  const book = new AddressBook({ file: peers, now: () => 5_000 });
  for (const url of ['ws://1.2.3.4:8333', 'wss://[2001:db8::1]:443', 'ws://seed.example:18444'])
    book.add(url, 'addr', 4_000);
  book.attempt('ws://1.2.3.4:8333');
  book.save();
  const list = new BanList(bans, () => 1_000);
  list.ban('10.0.0.0/8', 60_000, 'operator');
  list.ban('5.6.7.8', 60_000, 'misbehaving');
  const again = new AddressBook({ file: peers });
  assert.equal(again.load(), null);
  assert.deepEqual(again.all(), book.all());
  const bansAgain = new BanList(bans, () => 1_000);
  assert.equal(bansAgain.load(), null);
  assert.deepEqual(bansAgain.list(), list.list());
  for (const [file, load, size] of [
    [peers, () => new AddressBook({ file: peers }), (b: AddressBook) => b.size],
    [bans, () => new BanList(bans, () => 1_000), (b: BanList) => b.list().length],
  ] as const) {
    const text = readFileSync(file, 'utf8');
    for (let k = 0; k < text.length; k += 3) {
      writeFileSync(file, text.slice(0, k));
      const b = load();
      const err = b.load();
      // The empty prefix too: an empty file is damage, unlike a missing one.
      assert.equal(typeof err, 'string', `prefix ${k}`);
      assert.equal((size as (x: typeof b) => number)(b), 0);
    }
  }
});

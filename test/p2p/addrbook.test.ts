// The address book as Core's addrman: new (1,024 x 64) and tried (256 x 64) tables keyed by a
// secret and by network group, so one source reaches only 64 new buckets; a taken slot keeps the
// better entry (IsTerrible); Good moves to tried; candidates draw at random with bounded work;
// peers.json holds what the tables hold, under the same key after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AddressBook, BUCKET_SIZE, isTerrible, type AddrEntry } from '../../src/p2p/addrbook.js';

const NOW = 2_000_000_000_000;
const url = (i: number, a = 8) => `ws://${a}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8333`;

test('one source group fills at most 64 new buckets (4,096 slots), however many it sends', () => {
  const book = new AddressBook({ now: () => NOW });
  let added = 0;
  // 12,000 addresses from one peer, spread over 200 /16 groups (more than the 64 buckets allowed).
  for (let i = 0; i < 12_000; i++) if (book.add(url(i * 257, 1 + (i % 200)), 'addr', NOW, '5.6.7.8')) added++;
  assert.ok(book.size <= 64 * BUCKET_SIZE, `size ${book.size}`);
  assert.equal(book.size, added);
  assert.deepEqual(book.counts(), { new: book.size, tried: 0 });
  // Another source group lands in other buckets.
  const before = book.size;
  for (let i = 0; i < 2_000; i++) book.add(url(i * 263 + 5, 1 + (i % 200)), 'addr', NOW, '77.1.2.3');
  assert.ok(book.size > before + 1_000);
});

test('a taken slot keeps a good entry; isTerrible as Core', () => {
  const book = new AddressBook({ now: () => NOW, key: new Uint8Array(32).fill(1) });
  // Fill until a collision is refused (same source: the 4,096 slots fill up).
  let refused = -1;
  for (let i = 0; i < 20_000 && refused < 0; i++) if (!book.add(url(i), 'addr', NOW, '5.6.7.8')) refused = i;
  assert.ok(refused > 0, 'a collision happened');
  assert.equal(book.get(url(refused)), undefined);
  // isTerrible as Core's.
  const base: AddrEntry = {
    url: url(1),
    source: 'addr',
    from: '',
    tried: false,
    lastSeen: NOW,
    lastTry: 0,
    lastSuccess: 0,
    attempts: 0,
  };
  assert.equal(isTerrible(base, NOW), false);
  assert.equal(isTerrible({ ...base, attempts: 3 }, NOW), true);
  assert.equal(isTerrible({ ...base, attempts: 3, lastTry: NOW - 30_000 }, NOW), false, 'tried a minute ago');
  assert.equal(isTerrible({ ...base, lastSeen: NOW - 31 * 86_400_000 }, NOW), true);
  assert.equal(isTerrible({ ...base, lastSeen: NOW + 11 * 60_000 }, NOW), true);
  assert.equal(isTerrible({ ...base, lastSuccess: NOW - 8 * 86_400_000, attempts: 10 }, NOW), true);
  assert.equal(isTerrible({ ...base, lastSuccess: NOW - 86_400_000, attempts: 10 }, NOW), false);
});

test('a terrible holder is replaced by a newcomer for its slot', () => {
  const key = new Uint8Array(32).fill(2);
  let now = NOW;
  const book = new AddressBook({ now: () => now, key });
  let refused = -1;
  for (let i = 0; i < 20_000 && refused < 0; i++) if (!book.add(url(i), 'addr', now, '5.6.7.8')) refused = i;
  assert.ok(refused > 0);
  for (const e of book.all()) for (let k = 0; k < 3; k++) book.attempt(e.url);
  now += 120_000;
  assert.equal(book.add(url(refused), 'addr', now, '5.6.7.8'), true);
  assert.ok(book.get(url(refused)));
});

test('Good moves an address to tried; a reload under the saved key gives the same tables', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-addrman-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'peers.json');
  const book = new AddressBook({ file, now: () => NOW });
  for (let i = 0; i < 500; i++) book.add(url(i * 977), 'addr', NOW - 1000, `3.${i % 7}.0.1`);
  const some = book.all().slice(0, 50);
  for (const e of some) book.good(e.url);
  const counts = book.counts();
  assert.ok(counts.tried > 40 && counts.tried <= 50, JSON.stringify(counts));
  assert.equal(counts.new + counts.tried, book.size);
  book.save();
  const again = new AddressBook({ file, now: () => NOW });
  assert.equal(again.load(), null);
  assert.deepEqual(again.counts(), counts);
  const byUrl = (a: AddrEntry, b: AddrEntry) => (a.url < b.url ? -1 : 1);
  assert.deepEqual(again.all().sort(byUrl), book.all().sort(byUrl));
});

test('peers.json stays bounded: 30 addr messages of 1,000 from one peer write under 600 kB', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-addrman-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'peers.json');
  const book = new AddressBook({ file, now: () => NOW });
  for (let m = 0; m < 30; m++) {
    for (let i = 0; i < 1_000; i++) book.add(url(m * 1_000 + i, 1 + m), 'addr', NOW, '5.6.7.8');
    book.save();
  }
  const size = statSync(file).size;
  t.diagnostic(`peers.json ${size} bytes for ${book.size} entries after 30,000 addresses`);
  assert.ok(size < 600_000, `${size} bytes`);
  // A version-1 file (no key, no tables) still loads.
  writeFileSync(
    file,
    JSON.stringify({ version: 1, peers: [{ url: url(1), source: 'addr', lastSeen: NOW }] }),
  );
  const old = new AddressBook({ file, now: () => NOW });
  assert.equal(old.load(), null);
  assert.equal(old.size, 1);
  assert.ok(JSON.parse(readFileSync(file, 'utf8')));
});

test('candidates: bounded work over a large book, tried and new both drawn, back-off honoured', () => {
  const book = new AddressBook({ now: () => NOW });
  for (let i = 0; i < 60_000; i++)
    book.add(url(i * 7919, 1 + (i % 250)), 'addr', NOW, `${1 + (i % 250)}.9.0.1`);
  const all = book.all();
  for (const e of all.slice(0, 300)) book.good(e.url);
  let looked = 0;
  const picked = book.candidates(
    () => {
      looked++;
      return false;
    },
    1000,
    8,
  );
  assert.equal(picked.length, 8);
  assert.ok(looked <= 100 + 50 * 8, `looked at ${looked}`);
  // Every entry excluded: the draw gives up within its budget instead of scanning the book.
  looked = 0;
  assert.deepEqual(
    book.candidates(
      () => {
        looked++;
        return true;
      },
      1000,
      8,
    ),
    [],
  );
  assert.ok(looked <= 500);
  // A small book: everything reachable, and an address just tried waits out its back-off.
  const small = new AddressBook({ now: () => NOW });
  small.add(url(1), 'addr', NOW, '4.4.4.4');
  small.add(url(2, 9), 'seed', 0);
  small.attempt(url(1));
  assert.deepEqual(
    small.candidates(() => false, 60_000, 8),
    [url(2, 9)],
  );
});

test("a manual entry takes a gossiped one's slot and is never pushed out", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
      const book = new AddressBook({ now: () => NOW, key });
      // Addresses of group 8.0 told by a peer in 8.0: the same buckets a manual 8.0 address uses.
      let refused = -1;
      for (let i = 0; i < 60_000 && refused < 0; i++)
        if (!book.add(url(i), 'addr', NOW, '8.0.0.1')) refused = i;
      assert.ok(refused > 0);
      assert.equal(book.add(url(refused), 'manual'), true);
      for (let i = 60_000; i < 65_000; i++) book.add(url(i), 'addr', NOW, '8.0.0.1');
      assert.equal(book.get(url(refused))?.source, 'manual');
    }),
    { numRuns: 3 },
  );
});

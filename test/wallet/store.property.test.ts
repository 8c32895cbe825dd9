// Wallet files as untrusted input: random text, truncations of a real file and a damaged
// field anywhere in it give WalletFileError naming the file (or, for a valid other wallet, a
// wallet), never a library exception, at load or when the wallet is opened. A file written by
// the wallet reads back to the same content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { WalletFileError, readWalletFile } from '../../src/wallet/store.js';
import { Wallet, WalletError } from '../../src/wallet/wallet.js';
import { tx } from '../primitives/arbitraries.js';

const PREFIXES = { pubkeyHash: 111, scriptHash: 196, wif: 239 };
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v` (objects and arrays included), the root excepted. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => {
    const p = [...at, k];
    return [p, ...paths((v as Record<string | number, Json>)[k], p)];
  });
}

function setAt(root: Json, path: (string | number)[], value: Json): Json {
  const copy = structuredClone(root);
  let o = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  o[path[path.length - 1]] = value;
  return copy;
}

function fileErrorNaming(path: string): (e: unknown) => boolean {
  return (e) => e instanceof WalletFileError && e.message.includes(path);
}

test('wallet file: written, read back, truncated, replaced by junk or damaged anywhere', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wallet-prop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'w.json');
  const opts = { path, network: 'regtest', prefixes: PREFIXES, coinbaseMaturity: 100 };
  const { wallet } = await Wallet.create({ ...opts, mnemonic: MNEMONIC, gap: 3 });
  wallet.getNewAddress('label');
  // A transaction record, as the wallet stores one it has seen.
  const file = JSON.parse(readFileSync(path, 'utf8')) as Json & { txs: Record<string, Json> };
  const t0 = fc.sample(tx, { numRuns: 1, seed: 5 })[0];
  file.txs[t0.txidHex()] = {
    hex: bytesToHex(t0.encode()),
    height: null,
    blockHash: null,
    blockTime: null,
    time: 1,
  };
  const text = JSON.stringify(file, null, 1);
  writeFileSync(path, text);
  assert.deepEqual(readWalletFile(path), file);
  Wallet.load(opts);

  // Truncations of the real file (a sample of cut points: each one is a file write).
  fc.assert(
    fc.property(fc.nat({ max: text.length - 1 }), (k) => {
      writeFileSync(path, text.slice(0, k));
      assert.throws(() => readWalletFile(path), fileErrorNaming(path), `prefix ${k}`);
    }),
    { numRuns: 80 },
  );

  // Random text and random JSON.
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 3 })), (junk) => {
      writeFileSync(path, junk);
      assert.throws(() => readWalletFile(path), fileErrorNaming(path));
    }),
    { numRuns: 100 },
  );

  // One value anywhere in the real file replaced: refused naming the file, or a wallet that opens.
  const where = paths(file);
  const replacement = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
    fc.constantFrom<Json>(-1, 0, 2 ** 31, 1.5, '', 'zz', '00', 'xpub', null, [], {}),
  );
  fc.assert(
    fc.property(fc.constantFrom(...where), replacement, (at, value) => {
      writeFileSync(path, JSON.stringify(setAt(file, at, value)));
      let ok = false;
      try {
        readWalletFile(path);
        ok = true;
      } catch (e) {
        assert.ok(fileErrorNaming(path)(e), String(e));
      }
      // Opening derives every address up to next + gap (about 1 ms each): a valid but huge index
      // is slow, not wrong, so those are only read here.
      const big =
        typeof value === 'number' && value > 1000 && ['next', 'used', 'gap'].includes(String(at.at(-1)));
      if (!ok || big) return;
      try {
        Wallet.load(opts);
      } catch (e) {
        assert.ok(e instanceof WalletError && /network/.test(e.message), String(e));
      }
    }),
    { numRuns: 120 },
  );
});

test('wallet file: damaged scrypt parameters, IV, tag, xpub, tx and mnemonic are named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-wallet-prop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'w.json');
  const opts = { path, network: 'regtest', prefixes: PREFIXES, coinbaseMaturity: 100 };
  await Wallet.create({
    ...opts,
    mnemonic: MNEMONIC,
    gap: 1,
    passphrase: 'pw',
    scrypt: { N: 1 << 10, r: 8, p: 1 },
  });
  const enc = JSON.parse(readFileSync(path, 'utf8')) as Json;
  const cases: [(string | number)[], Json, RegExp][] = [
    [['secret', 'encrypted', 'N'], 1000, /secret/],
    [['secret', 'encrypted', 'N'], 2 ** 30, /secret/],
    [['secret', 'encrypted', 'iv'], 'abcd', /secret/],
    [['secret', 'encrypted', 'tag'], '', /secret/],
    [['receive', 'xpub'], 'xpub661MyMwAqRbcF', /receive\.xpub: not an extended public key/],
    [['receive', 'next'], 2 ** 31 - 1, /receive\.next: address index past the BIP32 limit/],
    [['coinType'], 2 ** 31, /coinType/],
    [['secret'], { mnemonic: 'abandon abandon' }, /secret/],
    [
      ['txs'],
      { x: { hex: '00', height: null, blockHash: null, blockTime: null, time: 0 } },
      /txs\.x\.hex: not a transaction/,
    ],
  ];
  for (const [at, value, message] of cases) {
    writeFileSync(path, JSON.stringify(setAt(enc, at, value)));
    assert.throws(
      () => readWalletFile(path),
      (e: unknown) => fileErrorNaming(path)(e) && message.test((e as Error).message),
      `${at.join('.')} = ${JSON.stringify(value)}`,
    );
  }
});

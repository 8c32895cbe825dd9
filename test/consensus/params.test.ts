// genesis.json and the parameter presets: each network's recorded genesis checks out, and a broken
// file is refused with a message that names the network and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { BlockHeader } from '../../src/primitives/block.js';
import { hexToBytes, reverseHex } from '../../src/primitives/bytes.js';
import { NETWORK_NAMES, ParamsError, getParams, parseGenesisFile } from '../../src/consensus/params.js';
import { checkProofOfWork, compactToTarget, targetToCompact } from '../../src/consensus/pow.js';
import { REPO_ROOT } from '../vectors.js';

type Json = Record<string, Record<string, unknown> & { genesis: Record<string, unknown> }>;
const raw = readFileSync(join(REPO_ROOT, 'genesis.json'), 'utf8');
const fresh = (): Json => JSON.parse(raw) as Json;

test('each network: recorded genesis hash, merkle root and proof of work check out', () => {
  const file = fresh();
  for (const name of NETWORK_NAMES) {
    const p = getParams(name);
    const g = file[name].genesis;
    assert.equal(p.name, name);
    assert.equal(p.genesis.hashHex(), g.hash);
    assert.equal(reverseHex(p.genesis.header.merkleRoot), g.merkleRoot);
    assert.equal(p.genesis.txs[0].txidHex(), g.merkleRoot);
    assert.equal(p.genesis.merkle().mutated, false);
    assert.ok(checkProofOfWork(p.genesisHash, p.genesis.header.bits, p));
    assert.ok(p.genesis.txs[0].isCoinbase());
    assert.equal(p.genesis.txs[0].outputs[0].value, p.initialSubsidy);
  }
});

test('Tally networks follow DESIGN.md: spacing, subsidy, limits, soft forks from 0, retarget rules', () => {
  for (const name of NETWORK_NAMES) {
    const p = getParams(name);
    assert.equal(p.targetSpacing, 600);
    assert.equal(p.initialSubsidy, 5_000_000_000n);
    assert.equal(p.halvingInterval, 210_000);
    assert.equal(p.coinbaseMaturity, 100);
    assert.equal(p.maxBlockSize, 1_000_000);
    assert.equal(p.maxBlockSigops, 20_000);
    for (const h of [
      p.bip16Height,
      p.bip34Height,
      p.bip65Height,
      p.bip66Height,
      p.csvHeight,
      p.bip147Height,
    ]) {
      assert.equal(h, 0);
    }
    assert.deepEqual(p.bip30Exceptions, []);
    assert.equal(targetToCompact(p.powLimit), p.powLimitBits);
    assert.equal(p.magic.length, 4);
    // Never Bitcoin's version bytes, so a Tally address cannot be mistaken for a Bitcoin one.
    for (const v of Object.values(p.prefixes)) assert.ok(![0, 5, 128, 111, 196, 239].includes(v));
  }
  // BIP34 from the block after genesis: BIP30 is implied (Core's BIP34Hash) on main and test; on
  // regtest BIP30 is read at every height, as on Core's regtest.
  assert.equal(getParams('main').bip34Hash, getParams('main').genesis.hashHex());
  assert.equal(getParams('test').bip34Hash, getParams('test').genesis.hashHex());
  assert.equal(getParams('regtest').bip34Hash, null);
  assert.equal(getParams('main').retarget.kind, 'asert');
  assert.equal(getParams('test').retarget.kind, 'asert');
  assert.deepEqual(getParams('regtest').retarget, { kind: 'none' });
  assert.equal(getParams('regtest').powLimitBits, 0x207fffff);
  assert.equal(getParams('regtest').powLimit, compactToTarget(0x207fffff).target);
  assert.equal(new Set(NETWORK_NAMES.map((n) => getParams(n).magic.join())).size, 3);
});

test('parameters are frozen and getParams returns the same object each time', () => {
  const p = getParams('main');
  assert.equal(getParams('main'), p);
  assert.throws(() => {
    (p as { targetSpacing: number }).targetSpacing = 1;
  }, TypeError);
});

test('bitcoin preset: real genesis, 2016-block retarget, activation heights and BIP30 exceptions', () => {
  const b = getParams('bitcoin');
  assert.equal(b.genesis.hashHex(), '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f');
  assert.deepEqual(b.retarget, { kind: 'bitcoin', interval: 2016, targetTimespan: 1_209_600 });
  assert.equal(b.powLimitBits, 0x1d00ffff);
  assert.equal(b.powLimit, (1n << 224n) - 1n);
  assert.deepEqual(b.prefixes, { pubkeyHash: 0, scriptHash: 5, wif: 128 });
  assert.deepEqual(
    [b.bip34Height, b.bip65Height, b.bip66Height, b.csvHeight, b.bip147Height],
    [227931, 388381, 363725, 419328, 481824],
  );
  assert.equal(b.bip34Hash, '000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8');
  assert.deepEqual(
    b.bip30Exceptions.map((e) => e.height),
    [91842, 91880],
  );
});

// Each case breaks one thing and names the field the message must carry.
function breaks(): [string, (f: Json) => void, RegExp][] {
  const rehash = (f: Json, net: string) => {
    const g = f[net].genesis;
    const h = new BlockHeader(
      g.version as number,
      hexToBytes(g.prevHash as string),
      hexToBytes(g.merkleRoot as string).reverse(),
      g.time as number,
      parseInt(g.bits as string, 16),
      g.nonce as number,
    );
    g.hash = h.hashHex();
  };
  return [
    ['missing field', (f) => delete f.main.rpcPort, /^genesis\.json: main\.rpcPort: missing$/],
    ['missing network', (f) => delete f.test, /^genesis\.json: test: missing$/],
    ['not an object', (f) => ((f as unknown as Record<string, unknown>).regtest = 7), /regtest: /],
    [
      'bad hex magic',
      (f) => (f.main.magic = 'e7a11ezz'),
      /^genesis\.json: main\.magic: expected 8 lowercase hex chars$/,
    ],
    ['short magic', (f) => (f.test.magic = 'e7a11e'), /test\.magic: expected 8/],
    ['unknown key', (f) => (f.main.colour = 'blue'), /main: Unrecognized key: "colour"/],
    ['port out of range', (f) => (f.main.defaultPort = 70000), /main\.defaultPort: /],
    ['fractional spacing', (f) => (f.main.targetSpacing = 600.5), /main\.targetSpacing: /],
    ['bad retarget kind', (f) => (f.main.retarget = { kind: 'dgw' }), /main\.retarget/],
    ['zero half-life', (f) => (f.main.retarget = { kind: 'asert', halfLife: 0 }), /main\.retarget\.halfLife/],
    [
      'subsidy not decimal',
      (f) => (f.main.initialSubsidy = '5e9'),
      /main\.initialSubsidy: expected a positive/,
    ],
    ['wrong name', (f) => (f.main.name = 'test'), /main\.name: expected "main"/],
    [
      'powLimitBits disagree',
      (f) => (f.main.powLimitBits = '1d00ffff'),
      /main\.powLimitBits: expected 1e00ffff/,
    ],
    [
      'same prefixes',
      (f) => (f.main.prefixes = { pubkeyHash: 65, scriptHash: 65, wif: 193 }),
      /main\.prefixes/,
    ],
    ['duplicate magic', (f) => (f.test.magic = f.main.magic), /test\.magic: same as main\.magic/],
    [
      'duplicate port',
      (f) => (f.regtest.rpcPort = f.main.defaultPort),
      /regtest\.rpcPort: same as main\.defaultPort/,
    ],
    ['bad genesis hash hex', (f) => (f.main.genesis.hash = 'xyz'), /main\.genesis\.hash: expected 64/],
    [
      'wrong genesis hash',
      (f) => (f.main.genesis.hash = '00'.repeat(32)),
      /main\.genesis\.hash: recorded 0+ but the header hashes to/,
    ],
    [
      'wrong merkle root',
      (f) => (f.test.genesis.merkleRoot = 'ab'.repeat(32)),
      /test\.genesis\.merkleRoot: recorded abab/,
    ],
    [
      'coinbase not a tx',
      (f) => (f.main.genesis.coinbase = '0100'),
      /main\.genesis\.coinbase: not a transaction/,
    ],
    [
      'coinbase odd hex',
      (f) => (f.main.genesis.coinbase = '010'),
      /main\.genesis\.coinbase: expected raw transaction hex/,
    ],
    [
      'message missing from coinbase',
      (f) => (f.main.genesis.message = 'hello'),
      /main\.genesis\.message: does not appear/,
    ],
    [
      'non-null parent',
      (f) => (f.main.genesis.prevHash = '11'.repeat(32)),
      /main\.genesis\.prevHash: a genesis block has no parent/,
    ],
    [
      'nonce fails PoW',
      (f) => {
        f.main.genesis.nonce = (f.main.genesis.nonce as number) + 1;
        rehash(f, 'main');
      },
      /main\.genesis\.nonce: the header does not meet its bits/,
    ],
    [
      'bits above powLimit',
      (f) => {
        f.main.genesis.bits = '207fffff';
        rehash(f, 'main');
      },
      /main\.genesis\.bits: not a valid target within powLimit/,
    ],
  ];
}

test('parseGenesisFile accepts the committed file', () => {
  const parsed = parseGenesisFile(fresh());
  for (const name of NETWORK_NAMES)
    assert.equal(parsed[name].genesis.hashHex(), getParams(name).genesis.hashHex());
});

test('parseGenesisFile rejects broken files, naming the field', () => {
  for (const [label, mutate, message] of breaks()) {
    const f = fresh();
    mutate(f);
    assert.throws(
      () => parseGenesisFile(f),
      (e: unknown) => e instanceof ParamsError && message.test(e.message),
      label,
    );
  }
  assert.throws(() => parseGenesisFile(null), /genesis\.json: \(top level\): /);
  assert.throws(() => parseGenesisFile([]), ParamsError);
});

test('property: any JSON value is either accepted or refused with a ParamsError', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.throws(() => parseGenesisFile(v), ParamsError);
    }),
    { numRuns: 300 },
  );
  // Random damage to one field of the real file: refused cleanly or (rarely) still valid.
  const file = fresh();
  const fields = Object.keys(file.main);
  fc.assert(
    fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
      const f = fresh();
      f.main[field] = value;
      try {
        parseGenesisFile(f);
      } catch (e) {
        assert.ok(e instanceof ParamsError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});

test('property: a value replaced anywhere in the file, at any depth, is refused naming a network field', () => {
  type Node = Record<string | number, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]): void => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v as Node)) {
      const p = [...at, Array.isArray(v) ? Number(k) : k];
      paths.push(p);
      walk(child, p);
    }
  };
  walk(fresh(), []);
  const nested = paths.filter((p) => p.length >= 3);
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom<unknown>(
      '',
      '00',
      'zz',
      -1,
      0,
      2 ** 32,
      1.5,
      '0'.repeat(64),
      'f'.repeat(8),
      null,
      [],
      {},
    ),
  );
  fc.assert(
    fc.property(fc.constantFrom(...nested), value, (at, v) => {
      const f = fresh() as unknown as Node;
      let o = f;
      for (const k of at.slice(0, -1)) o = o[k] as Node;
      o[at[at.length - 1]] = v;
      try {
        // Accepted: the change left a valid file (another prefix byte, a later fork height).
        assert.equal(Object.keys(parseGenesisFile(f)).length, NETWORK_NAMES.length);
      } catch (e) {
        assert.ok(e instanceof ParamsError, String(e));
        assert.ok(
          NETWORK_NAMES.some((n) => e.field.startsWith(`${n}.`)),
          e.message,
        );
      }
    }),
    { numRuns: 300 },
  );
});

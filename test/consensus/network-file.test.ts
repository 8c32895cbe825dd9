// A network of one's own as a file (genesis.json's format, one network): what `tally network
// create` writes loads back with the same rules, and a damaged or hostile file is refused with a
// ParamsError naming the file and field, never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createGenesisBlock, pushBytes } from '../../src/consensus/genesis.js';
import {
  ParamsError,
  getParams,
  networkEntry,
  parseNetworkFile,
  type NetworkRules,
} from '../../src/consensus/params.js';

// Regtest's easy target: nonce 0..few wins, so the test mines its own genesis.
const rules: NetworkRules = {
  name: 'acme',
  magic: 'a1b2c3d4',
  defaultPort: 40001,
  rpcPort: 40000,
  prefixes: { pubkeyHash: 23, scriptHash: 24, wif: 25 },
  powLimitBits: 0x207fffff,
  targetSpacing: 60,
  retarget: { kind: 'asert', halfLife: 3600 },
  initialSubsidy: 1_000_000n,
  halvingInterval: 210_000,
  coinbaseMaturity: 100,
  maxBlockSize: 500_000,
  maxBlockSigops: 10_000,
  seeds: ['ws://seed.example:40001'],
};
const message = 'acme: a test network';

function genesis() {
  const spec = {
    version: 1,
    time: 1_800_000_000,
    bits: rules.powLimitBits,
    scriptSig: Uint8Array.of(0, ...pushBytes(new TextEncoder().encode(message))),
    reward: rules.initialSubsidy,
    outputScript: Uint8Array.of(0x6a),
  };
  for (let nonce = 0; ; nonce++) {
    const b = createGenesisBlock({ ...spec, nonce });
    if (b.hash()[31] < 0x80) return b;
  }
}
const block = genesis();
const fresh = () =>
  JSON.parse(JSON.stringify({ acme: networkEntry(rules, block, message) })) as Record<
    string,
    Record<string, unknown>
  >;

test('a written network file loads back with its rules', () => {
  const p = parseNetworkFile(fresh(), 'acme.json');
  assert.equal(p.name, 'acme');
  assert.equal(p.genesis.hashHex(), block.hashHex());
  assert.equal(p.targetSpacing, 60);
  assert.deepEqual(p.retarget, { kind: 'asert', halfLife: 3600 });
  assert.equal(p.initialSubsidy, 1_000_000n);
  assert.equal(p.maxBlockSize, 500_000);
  assert.deepEqual(p.seeds, rules.seeds);
  assert.deepEqual(p.prefixes, rules.prefixes);
  // BIP34 since its first block: BIP30 implied (Core's BIP34Hash is its genesis).
  assert.equal(p.bip34Hash, block.hashHex());
  // A file written before bip34Hash existed: BIP30 read at every height.
  const { bip34Hash: _, ...older } = fresh().acme;
  assert.equal(parseNetworkFile({ acme: older }, 'acme.json').bip34Hash, null);
  // A network that asks otherwise (scripts/mine-genesis.ts for regtest) has none.
  const entry = networkEntry({ ...rules, bip34ImpliesBIP30: false }, block, message);
  assert.equal('bip34Hash' in entry, false);
});

test('refused: Tally names, two networks, collisions with Tally, seeds that are not ws URLs', () => {
  const refuse = (json: unknown, re: RegExp) =>
    assert.throws(
      () => parseNetworkFile(json, 'x.json'),
      (e: unknown) => e instanceof ParamsError && re.test(e.message),
    );
  const main = fresh();
  refuse({ main: { ...main.acme, name: 'main' } }, /x\.json: main: "main" is reserved/);
  refuse({ ...fresh(), other: fresh().acme }, /expected one network, found 2/);
  refuse({ acme: { ...fresh().acme, name: 'other' } }, /acme\.name: expected "acme"/);
  const tallyMagic = Buffer.from(getParams('main').magic).toString('hex');
  refuse({ acme: { ...fresh().acme, magic: tallyMagic } }, /acme\.magic: same as main\.magic/);
  refuse(
    { acme: { ...fresh().acme, rpcPort: getParams('test').defaultPort } },
    /acme\.rpcPort: same as test\.defaultPort/,
  );
  refuse(
    { acme: { ...fresh().acme, seeds: ['seed.example:1'] } },
    /acme\.seeds\.0: expected a ws:\/\/ or wss:\/\/ URL/,
  );
  refuse(
    { acme: { ...fresh().acme, genesis: { ...(fresh().acme.genesis as object), nonce: 12345 } } },
    /acme\.genesis/,
  );
});

test('property: any change to a network file gives parameters or a ParamsError', () => {
  const keys = Object.keys(fresh().acme);
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.string()),
    fc.object(),
  );
  fc.assert(
    fc.property(fc.constantFrom(...keys), value, (key, v) => {
      const f = fresh();
      f.acme[key] = v;
      try {
        parseNetworkFile(f, 'x.json');
      } catch (e) {
        assert.ok(e instanceof ParamsError, String(e));
      }
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      try {
        parseNetworkFile(v, 'x.json');
      } catch (e) {
        assert.ok(e instanceof ParamsError, String(e));
      }
    }),
    { numRuns: 200 },
  );
});

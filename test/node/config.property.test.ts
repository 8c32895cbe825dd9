// tally.conf and flags as untrusted input: random files built from real option names, names that
// live on Object.prototype ("toString", "__proto__"), sections, prefixes, comments and junk give a
// config or a ConfigError, never another exception; a config read back from its own lines is the
// same config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ConfigError,
  NETWORKS,
  OPTIONS,
  REFUSED,
  loadConfig,
  parseConfFile,
  type Flags,
} from '../../src/node/config.js';

const HOME = '/home/op';
const PROTO_NAMES = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'];
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.keys(OPTIONS)) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(REFUSED)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...Object.keys(OPTIONS), ...Object.keys(REFUSED)).map((k) => 'no' + k),
  },
  { weight: 1, arbitrary: fc.constantFrom('includeconf', 'regtest', 'testnet', 'chain') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const value = fc.oneof(
  fc.constantFrom(
    '1',
    '0',
    'true',
    'no',
    'regtest',
    'main',
    '8333',
    '-1',
    '99999',
    'a:1',
    '1.2.3.0/24',
    'tcp://127.0.0.1:28332',
    'basic',
    '0.0001',
    'net,chain',
    '',
  ),
  fc.string({ maxLength: 12 }),
);
const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('', '', 'test.', 'regtest.', 'bogus.', '.'), key, value)
      .map(([p, k, v]) => `${p}${k}=${v}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('[main]', '[test]', '[regtest]', '[bogus]', '[]', '# comment', '', '   '),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const confText = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'))
  .map(([ls, nl]) => ls.join(nl));

function configOrConfigError<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.ok(e.message.length > 0);
    return undefined;
  }
}

test('config: random files give a config or a ConfigError, never another exception', () => {
  fc.assert(
    fc.property(confText, (text) => {
      configOrConfigError(() => parseConfFile(text));
      const cfg = configOrConfigError(() => loadConfig({}, { home: HOME, readConf: () => text }));
      if (cfg === undefined) return;
      assert.ok((NETWORKS as readonly string[]).includes(cfg.network));
      for (const k of ['bind', 'rpcbind', 'rpcallowip', 'connect', 'addnode', 'debug'] as const)
        assert.ok(Array.isArray(cfg[k]));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      configOrConfigError(() => loadConfig({}, { home: HOME, readConf: () => text }));
    }),
    { numRuns: 200 },
  );
});

test('config: prototype member names are unknown options, in the file and as flags', () => {
  for (const name of PROTO_NAMES) {
    assert.throws(() => parseConfFile(`${name}=1`), /unknown option/);
    assert.throws(() => parseConfFile(`regtest.${name}=1`), /unknown option/);
    assert.throws(
      () => loadConfig({ [name]: '1' }, { home: HOME, readConf: () => undefined }),
      /unknown option/,
    );
  }
});

test('config: random flags give a config or a ConfigError', () => {
  const flagValue = fc.oneof(
    value,
    fc.boolean(),
    fc.integer({ min: -5, max: 70000 }),
    fc.array(value, { maxLength: 3 }),
  );
  fc.assert(
    fc.property(fc.dictionary(key, flagValue, { maxKeys: 4 }), confText, (flags, text) => {
      configOrConfigError(() => loadConfig(flags as Flags, { home: HOME, readConf: () => text }));
    }),
    { numRuns: 200 },
  );
});

test('config: a file written from a loaded config loads to the same values', () => {
  const good = fc.record(
    {
      rpcport: fc.integer({ min: 0, max: 65535 }),
      threads: fc.integer({ min: 0, max: 1024 }),
      dbcache: fc.integer({ min: 4, max: 65536 }),
      mine: fc.boolean(),
      addnode: fc.array(fc.constantFrom('a:1', 'ws://b:2', '10.0.0.1:9'), { maxLength: 3 }),
      loglevel: fc.constantFrom('debug', 'info', 'warn'),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(good, fc.constantFrom(...NETWORKS), (opts, network) => {
      const lines = [`network=${network}`, `[${network}]`];
      for (const [k, v] of Object.entries(opts)) {
        for (const x of Array.isArray(v) ? v : [v])
          lines.push(`${k}=${typeof x === 'boolean' ? (x ? 1 : 0) : x}`);
      }
      const cfg = loadConfig({}, { home: HOME, readConf: () => lines.join('\n') });
      assert.equal(cfg.network, network);
      for (const [k, v] of Object.entries(opts)) assert.deepEqual(cfg[k as keyof typeof cfg], v, k);
    }),
    { numRuns: 100 },
  );
});

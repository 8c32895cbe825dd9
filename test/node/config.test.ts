import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, parseConfFile, ConfigError, type Flags } from '../../src/node/config.js';
import { parseWhitelist } from '../../src/node/config-options.js';

const HOME = '/home/op';
const load = (flags: Flags, conf?: string) => loadConfig(flags, { home: HOME, readConf: () => conf });

test('defaults: main network in ~/.tally, test and regtest in subfolders', () => {
  const c = load({});
  assert.equal(c.network, 'main');
  assert.equal(c.datadir, join(HOME, '.tally'));
  assert.equal(c.networkDir, join(HOME, '.tally'));
  assert.equal(c.conf, join(HOME, '.tally', 'tally.conf'));
  assert.equal(c.mine, false);
  assert.equal(c.rpcport, undefined);
  assert.deepEqual(c.addnode, []);
  assert.equal(load({ network: 'regtest' }).networkDir, join(HOME, '.tally', 'regtest'));
  assert.equal(load({ network: 'test', datadir: '/d' }).networkDir, '/d/test');
});

test('file: comments, sections, prefixes, repeated keys accumulate; flags win', () => {
  const text = [
    '# node settings',
    'network=regtest',
    'rpcport=1000 # trailing comment',
    'addnode=a:1',
    'addnode=b:2',
    'debug=net,chain',
    '[regtest]',
    'rpcport=2000',
    'mine=1',
    '[main]',
    'rpcport=3000',
    'test.port=4000',
  ].join('\n');
  const c = load({}, text);
  assert.equal(c.network, 'regtest');
  assert.equal(c.rpcport, 2000);
  assert.equal(c.mine, true);
  assert.deepEqual(c.addnode, ['a:1', 'b:2']);
  assert.deepEqual(c.debug, ['net', 'chain']);
  const m = load({ network: 'main', rpcport: 5000 }, text);
  assert.equal(m.rpcport, 5000);
  assert.equal(m.mine, false);
  assert.equal(load({ network: 'main' }, text).rpcport, 3000);
  assert.equal(load({ network: 'test' }, text).port, 4000);
  assert.deepEqual(load({ addnode: ['c:3'] }, text).addnode, ['c:3']);
  assert.equal(load({ mine: false }, text).mine, false);
});

test('bad values are refused naming the option and why', () => {
  const cases: [Flags, string | undefined, RegExp][] = [
    [
      { rpcport: 'abc' },
      undefined,
      /invalid value for rpcport: expected an integer 0\.\.65535 \(0 = any free port\) \(got "abc", --rpcport\)/,
    ],
    [
      {},
      'rpcport=70000',
      /invalid value for rpcport: expected an integer 0\.\.65535 \(0 = any free port\) \(got "70000", .*line 1\)/,
    ],
    [{ network: 'moon' }, undefined, /invalid value for network: expected one of main, test, regtest/],
    [{}, 'mine=maybe', /invalid value for mine: expected a boolean/],
    [{}, 'loglevel=loud', /invalid value for loglevel/],
    [{}, 'minerkernel=avx9', /invalid value for minerkernel: expected one of native-avx512, .*wasm-simd, js/],
    [{ stratum: '99999' }, undefined, /invalid value for stratum: expected an integer 0\.\.65535/],
    [{}, 'stratumbind=a b', /invalid value for stratumbind/],
    [{}, 'rpcallowip=not an ip', /invalid value for rpcallowip/],
    [
      {},
      'whitelist=forcerelay@1.2.3.4',
      /invalid value for whitelist: expected \[permissions@\]IP or IP\/netmask/,
    ],
    [{}, 'whitelist=noban@example.com', /invalid value for whitelist/],
    [{}, 'colour=blue', /unknown option "colour" \(.*line 1\)/],
    [{ colour: 'blue' }, undefined, /unknown option --colour/],
    [{}, '[mainnet]', /unknown section \[mainnet\]/],
    [{}, 'just words', /expected key=value/],
    [{}, 'datadir=/x', /datadir cannot be set in the config file/],
    [{}, '[test]\nnetwork=main', /network cannot be set inside a network section/],
    [{}, 'rpcuser=alice', /rpcuser and rpcpassword must be set together/],
  ];
  for (const [flags, conf, re] of cases)
    assert.throws(
      () => load(flags, conf),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      re.source,
    );
});

test("whitelist: Core's [permissions@]IP[/mask]; noban for an entry without permissions", () => {
  const c = load({}, 'whitelist=10.0.0.0/8\nwhitelist=mempool@1.2.3.4\nwhitelist=noban,relay@::1');
  assert.deepEqual(c.whitelist, ['10.0.0.0/8', 'mempool@1.2.3.4', 'noban,relay@::1']);
  assert.deepEqual(
    c.whitelist.map((w) => parseWhitelist(w)),
    [
      { net: '10.0.0.0/8', noban: true },
      { net: '1.2.3.4', noban: false },
      { net: '::1', noban: true },
    ],
  );
});

test('explicit --conf must exist', () => {
  assert.throws(() => load({ conf: 'other.conf' }), /config file .*other\.conf not found/);
});

test('parseConfFile keeps where each value came from', () => {
  const f = parseConfFile('\n\nport=1', 'x.conf');
  assert.deepEqual(f.top.get('port'), { values: ['1'], where: 'x.conf line 3' });
});

test('rpcconnect comes from tally.conf for the command line, the flag wins, a bad host is refused', () => {
  assert.equal(load({}, 'rpcconnect=10.1.2.3').rpcconnect, '10.1.2.3');
  assert.equal(load({ rpcconnect: 'node.lan' }, 'rpcconnect=10.1.2.3').rpcconnect, 'node.lan');
  assert.equal(load({}).rpcconnect, undefined);
  assert.throws(
    () => load({}, 'rpcconnect=a b'),
    /invalid value for rpcconnect: expected a host name or IP address/,
  );
});

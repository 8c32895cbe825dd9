// A copied bitcoin.conf: Core's keys, its spellings (-regtest, -txindex, -noX, noX=1), sections,
// includeconf and connect=0; each key either takes effect or is refused in one line naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, cookiePath, loadConfig, type Flags } from '../../src/node/config.js';
import { coreStyleArgs } from '../../src/cli/main.js';
import { genericFlags } from '../../src/cli/node-command.js';
import { RpcServer } from '../../src/rpc/server.js';
import { RpcClient } from '../../src/rpc/client.js';

const HOME = '/home/op';
const loadFiles = (flags: Flags, files: Record<string, string>) =>
  loadConfig(flags, { home: HOME, readConf: (p) => files[p] });
const load = (flags: Flags, conf?: string) =>
  loadFiles(flags, conf === undefined ? {} : { [join(HOME, '.tally', 'tally.conf')]: conf });
const refused = (flags: Flags, conf: string | undefined, re: RegExp) =>
  assert.throws(
    () => load(flags, conf),
    (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n'),
    re.source,
  );

/** A typical Core configuration, as people write it. */
const BITCOIN_CONF = `
# bitcoin.conf
server=1
rest=1
txindex=1
listen=1
daemon=0
dbcache=300
maxconnections=40
rpcthreads=8
rpcauth=alice:6b0d58f1e2d2c6e0a1b2c3d4e5f60718$${'ab'.repeat(32)}
fallbackfee=0.0002
minrelaytxfee=0.00001
maxmempool=100
persistmempool=1
uacomment=shop
prune=0
dnsseed=0
upnp=0
blocknotify=/usr/local/bin/notify %s
walletnotify=/usr/local/bin/wallet %s %w
zmqpubrawblock=tcp://127.0.0.1:28332
zmqpubhashtx=tcp://127.0.0.1:28333
debug=net
includeconf=extra.conf
[regtest]
rpcport=18443
port=18444
`;

test('a typical bitcoin.conf loads with Core meaning', () => {
  const c = loadFiles(
    { regtest: '' },
    {
      [join(HOME, '.tally', 'tally.conf')]: BITCOIN_CONF,
      [join(HOME, '.tally', 'extra.conf')]: 'seednode=10.0.0.9:8533\n[regtest]\nalertnotify=echo %s\n',
    },
  );
  assert.equal(c.network, 'regtest');
  assert.equal(c.rpcport, 18443);
  assert.equal(c.port, 18444);
  assert.equal(c.rest, true);
  assert.equal(c.txindex, true);
  assert.equal(c.listen, true);
  assert.equal(c.dbcache, 300);
  assert.equal(c.fallbackfee, 20_000n);
  assert.equal(c.minrelaytxfee, 1_000n);
  assert.equal(c.maxmempool, 100);
  assert.deepEqual(c.uacomment, ['shop']);
  assert.deepEqual(c.seednode, ['10.0.0.9:8533']);
  assert.equal(c.alertnotify, 'echo %s');
  assert.equal(c.blocknotify, '/usr/local/bin/notify %s');
  assert.deepEqual(c.zmqpubrawblock, ['tcp://127.0.0.1:28332']);
  assert.deepEqual(c.zmqpubhashblock, []);
  assert.equal(c.rpcauth.length, 1);
  assert.ok(c.notes.some((n) => n.startsWith('server=1')));
  assert.ok(c.notes.some((n) => n.startsWith('rpcthreads=8')));
  assert.equal(load({}, 'prune=0\nblocksonly=0').network, 'main');
});

test("Core's network spellings and negation", () => {
  assert.equal(load({ testnet: '1' }).network, 'test');
  assert.equal(load({ chain: 'regtest' }).network, 'regtest');
  assert.equal(load({}, 'regtest=1').network, 'regtest');
  assert.equal(load({}, 'testnet=0').network, 'main');
  refused({}, 'regtest=1\ntestnet=1', /testnet conflicts with the network already chosen \(regtest\)/);
  refused({}, '[regtest]\nregtest=1', /regtest cannot be set inside a network section/);
  assert.equal(load({}, 'nolisten=1').listen, false);
  assert.equal(load({}, 'listen=0\nnolisten=0').listen, true);
  assert.equal(load({ nolisten: '' }).listen, false);
  assert.equal(load({ nopersistmempool: '' }).persistmempool, false);
  assert.equal(load({ networkactive: '0' }).networkactive, false);
  assert.equal(load({}).networkactive, true);
  assert.equal(load({ noupnp: '' }).network, 'main');
  refused({ norpcport: '' }, undefined, /negating rpcport is not meaningful/);
  assert.equal(load({ txindex: '' }).txindex, true);
  assert.equal(load({}, 'blockfilterindex=basic').blockfilterindex, true);
  assert.equal(load({}, 'txindex=').txindex, true);
});

test('connect=0 means no outbound peers and cannot be mixed with peers', () => {
  assert.deepEqual(load({}, 'connect=0').connect, ['0']);
  assert.deepEqual(load({ noconnect: '' }).connect, ['0']);
  refused({}, 'connect=0\nconnect=a:1', /connect=0 \(no outbound peers\) cannot be mixed/);
});

test('includeconf: relative to the data directory, missing or nested is refused, not from the command line', () => {
  const main = join(HOME, '.tally', 'tally.conf');
  assert.throws(
    () => loadFiles({}, { [main]: 'includeconf=nope.conf' }),
    /included config file .*nope\.conf not found/,
  );
  assert.throws(
    () =>
      loadFiles({}, { [main]: 'includeconf=a.conf', [join(HOME, '.tally', 'a.conf')]: 'includeconf=b.conf' }),
    /includeconf cannot be used in an included file/,
  );
  refused({ includeconf: 'x.conf' }, undefined, /includeconf cannot be used on the command line/);
  // The main file's own single values win over an included file's; lists accumulate.
  const c = loadFiles(
    {},
    {
      [main]: 'includeconf=a.conf\ndbcache=100\naddnode=a:1',
      [join(HOME, '.tally', 'a.conf')]: 'dbcache=200\naddnode=b:2',
    },
  );
  assert.equal(c.dbcache, 100);
  assert.deepEqual(c.addnode, ['a:1', 'b:2']);
});

test('features Tally lacks, unknown keys and bad values each get one clear line', () => {
  // Core's prune refusals, in Core's words.
  refused(
    {},
    'prune=549',
    /^Prune configured below the minimum of 550 MiB\. {2}Please use a higher number\.$/,
  );
  refused({}, 'prune=550\ntxindex=1', /^Prune mode is incompatible with -txindex\.$/);
  refused(
    { 'reindex-chainstate': '' },
    'prune=1',
    /^Prune mode is incompatible with -reindex-chainstate\. Use full -reindex instead\.$/,
  );
  assert.deepEqual(
    [0, 1, 550].map((n) => load({}, `prune=${n}`).prune),
    [0, 1, 550],
  );
  refused({}, 'proxy=127.0.0.1:9050', /proxy=127\.0\.0\.1:9050 is not supported .*Tor, I2P/);
  refused({}, 'addresstype=bech32', /pre-SegWit/);
  refused({ blocksonly: '1' }, undefined, /--blocksonly=1 is not supported: blocks-only/);
  assert.equal(load({ reindex: '' }).reindex, true);
  refused({}, 'server=0', /server=0 is not supported .*always serves RPC/);
  refused({}, 'frobnicate=1', /Invalid configuration value: unknown option "frobnicate"/);
  refused({ frobnicate: '1' }, undefined, /Invalid parameter: unknown option --frobnicate/);
  refused({}, 'debug=foo', /invalid value for debug: expected a logging category/);
  refused({}, 'fallbackfee=lots', /invalid value for fallbackfee: expected a fee rate/);
  refused({}, 'maxmempool=1', /invalid value for maxmempool/);
  refused({}, 'zmqpubrawtx=ipc:///tmp/x', /invalid value for zmqpubrawtx: expected a ZMQ endpoint/);
  refused({}, 'rpcauth=alice:pw', /invalid value for rpcauth/);
  assert.deepEqual(load({}, 'debug=0').debug, []);
});

test("Core's single-dash flags become double-dash before the command and throughout `node`", () => {
  assert.deepEqual(coreStyleArgs(['-regtest', 'node', '-txindex', '-rpcport=1', '--mine']), [
    '--regtest',
    'node',
    '--txindex',
    '--rpcport=1',
    '--mine',
  ]);
  assert.deepEqual(coreStyleArgs(['--network', 'regtest', 'rpc', 'getblockhash', '-1', '-x']), [
    '--network',
    'regtest',
    'rpc',
    'getblockhash',
    '-1',
    '-x',
  ]);
  assert.deepEqual(coreStyleArgs(['-h', 'rpc', '-rpcwait']), ['-h', 'rpc', '-rpcwait']);
  assert.deepEqual(
    genericFlags(['--txindex', '--blocknotify', 'echo %s', '--nolisten', '--addnode=a:1', '--addnode=b:2']),
    {
      txindex: [''],
      blocknotify: ['echo %s'],
      nolisten: [''],
      addnode: ['a:1', 'b:2'],
    },
  );
  assert.throws(() => genericFlags(['stray']), /unexpected argument "stray"/);
  const c = loadConfig(genericFlags(['--txindex', '--nolisten', '--addnode=a:1', '--addnode=b:2']), {
    home: HOME,
    readConf: () => undefined,
  });
  assert.equal(c.txindex, true);
  assert.equal(c.listen, false);
  assert.deepEqual(c.addnode, ['a:1', 'b:2']);
});

test('rpcauth lets its user in beside the cookie; rpccookiefile moves the cookie', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-rpcauth-'));
  try {
    const salt = 'cb77f0957de88ff388cf817ddbc7273';
    const hmac = createHmac('sha256', salt).update('s3cret').digest('hex');
    const c = loadConfig(
      { datadir: dir },
      { readConf: () => `rpcauth=bob:${salt}$${hmac}\nrpccookiefile=auth/cookie` },
    );
    assert.equal(cookiePath(c), join(dir, 'auth', 'cookie'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'auth'));
    const s = new RpcServer({
      port: 0,
      auth: { cookieDir: dir, cookieFile: cookiePath(c), rpcauth: c.rpcauth },
      authFailDelayMs: 1,
    });
    await s.start();
    try {
      assert.equal(s.cookieFile, join(dir, 'auth', 'cookie'));
      assert.equal(
        typeof (await new RpcClient({ port: s.port, user: 'bob', password: 's3cret' }).call('uptime')),
        'number',
      );
      await assert.rejects(new RpcClient({ port: s.port, user: 'bob', password: 'wrong' }).call('uptime'));
      await assert.rejects(new RpcClient({ port: s.port, user: 'eve', password: 's3cret' }).call('uptime'));
      assert.equal(
        typeof (await new RpcClient({ port: s.port, cookieFile: cookiePath(c) }).call('uptime')),
        'number',
      );
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildProgram, runCli, parseRpcArg } from '../../src/cli/main.js';
import type { Command } from 'commander';
import { RpcServer } from '../../src/rpc/server.js';
import { registerWalletMethods } from '../../src/rpc/wallet-methods.js';
import { JsonAmount } from '../../src/rpc/amount.js';
import { WalletManager } from '../../src/wallet/manager.js';
import { getParams } from '../../src/consensus/params.js';
import { addressToScript } from '../../src/primitives/address.js';
import { ChainFixture, coinbase, COIN } from '../wallet/chain-fixture.js';

const params = getParams('regtest');
const root = mkdtempSync(join(tmpdir(), 'tally-cli-'));
const netDir = join(root, 'regtest');
let server: RpcServer;
let wallets: WalletManager;
let lastCall: unknown[] = [];

before(async () => {
  mkdirSync(netDir, { recursive: true });
  wallets = new WalletManager({
    dir: join(netDir, 'wallets'),
    network: 'regtest',
    prefixes: params.prefixes,
    coinbaseMaturity: 1,
  });
  server = new RpcServer({ port: 0, auth: { cookieDir: netDir } });
  server.register('getblockcount', () => 7, { params: [] });
  server.register('amounts', () => ({ fee: new JsonAmount(1000n), total: new JsonAmount(21n * 10n ** 14n) }));
  server.register('echo', (p) => {
    lastCall = p;
    return p;
  });
  registerWalletMethods(server, { wallets, broadcast: async () => undefined, defaultFeeRatePerKb: 1000n });
  await server.start();
});

after(async () => {
  await server.stop();
  wallets.close();
  rmSync(root, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const stdin = new PassThrough();
  stdin.end('pw\n');
  const code = await runCli(args, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    stdin,
  });
  return { code, out, err };
}

const g = () => ['--datadir', root, '--rpcport', String(server.port)];

test('global options work before or after the command and its arguments', async () => {
  assert.deepEqual(await cli('rpc', 'getblockcount', '--network', 'regtest', ...g()), {
    code: 0,
    out: '7\n',
    err: '',
  });
  assert.deepEqual(await cli('--network', 'regtest', ...g(), 'rpc', 'getblockcount'), {
    code: 0,
    out: '7\n',
    err: '',
  });
});

test('rpc params: JSON when they parse, strings otherwise; strings print plain', async () => {
  const r = await cli('--network', 'regtest', ...g(), 'rpc', 'echo', '1', 'abc', '{"a":[1,2]}', 'true', '-3');
  assert.equal(r.code, 0);
  assert.deepEqual(lastCall, [1, 'abc', { a: [1, 2] }, true, -3]);
  assert.equal(parseRpcArg('0000ab'), '0000ab');
  const help = await cli('--network', 'regtest', ...g(), 'rpc', 'help', 'getblockcount');
  // Help text prints as text (lines, not a JSON string), as bitcoin-cli prints it.
  assert.match(help.out, /^getblockcount\n\nReturns the height of the most-work fully-validated chain\.\n/);
  // Amounts print as the node wrote them, with 8 decimals, as bitcoin-cli prints them.
  const amounts = await cli('--network', 'regtest', ...g(), 'rpc', 'amounts');
  assert.equal(amounts.out, '{\n  "fee": 0.00001000,\n  "total": 21000000.00000000\n}\n');
});

test('one-line errors with non-zero exit: unknown method, bad config, node not running', async () => {
  const nf = await cli('--network', 'regtest', ...g(), 'rpc', 'nosuch');
  assert.deepEqual([nf.code, nf.err], [1, 'error: Method not found (code -32601)\n']);
  const bad = await cli('--network', 'regtest', '--rpcport', 'x', 'rpc', 'getblockcount');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^error: invalid value for rpcport: expected an integer 0\.\.65535/);
  const down = await cli('--network', 'regtest', '--datadir', root, '--rpcport', '1', 'rpc', 'getblockcount');
  assert.equal(down.code, 1);
  assert.match(down.err, /^error: could not connect to the server 127\.0\.0\.1:1: is the node running\?/);
  assert.equal(down.err.split('\n').length, 2);
});

test('wallet commands: create, address, balance, unlock, send, history, lock, errors', async () => {
  const w = (...a: string[]) => cli('--network', 'regtest', ...g(), 'wallet', ...a);
  const created = await w('create', '--passphrase', 'pw');
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /Created wallet "default"\.\n.*\n {2}(\w+ ){11}\w+\n/);
  const addr = (await w('address')).out.trim();
  assert.match(addr, /^[A-Za-z0-9]{25,35}$/);
  const chain = new ChainFixture();
  for (let h = 0; h < 3; h++) {
    const b = chain.next([coinbase(h, addressToScript(addr, params.prefixes), 5n * COIN)]);
    wallets.onBlockConnected(b, chain.push(b));
  }
  assert.equal(
    (await w('balance')).out,
    'confirmed:   10.00000000\nunconfirmed: 0.00000000\nimmature:    5.00000000\n',
  );
  const json = await cli('--json', '--network', 'regtest', ...g(), 'wallet', 'balance');
  assert.equal(JSON.parse(json.out).mine.trusted, 10);
  assert.match(json.out, /"trusted": 10\.00000000,\n/);

  const locked = await w('send', addr, '1');
  assert.deepEqual(
    [locked.code, locked.err],
    [1, 'error: the wallet is locked: run `tally wallet unlock` first\n'],
  );
  const wrong = await w('unlock', '--passphrase', 'nope');
  assert.equal(wrong.code, 1);
  assert.equal(wrong.err, 'error: wrong passphrase: the wallet stays locked\n');
  // `tally rpc` keeps the node's wording for RPC users, less the doubled "Error:".
  const raw = await cli('--network', 'regtest', ...g(), 'rpc', 'walletpassphrase', 'nope', '60');
  assert.equal(raw.err, 'error: The wallet passphrase entered was incorrect. (code -14)\n');
  const unlocked = await w('unlock', '--timeout', '60'); // passphrase from stdin
  assert.equal(unlocked.out, 'Wallet unlocked for 60 seconds.\n');
  const invalid = await w('send', 'notanaddress', '1');
  assert.equal(invalid.code, 1);
  assert.match(invalid.err, /^error: Invalid Tally address: .*\(code -5\)\n$/);
  const poor = await w('send', addr, '100');
  assert.equal(
    poor.err,
    'error: not enough coins for this payment and its fee (`tally wallet balance` shows what can be spent)\n',
  );
  const sent = await w('send', addr, '1.25', '--fee-rate', '2');
  assert.equal(sent.code, 0, sent.err);
  assert.match(sent.out, /^[0-9a-f]{64}\n$/);
  const history = await w('history');
  assert.match(history.out, / send +-1\.25000000 +0 conf /);
  assert.equal((await w('lock')).out, 'Wallet locked.\n');
  const backup = join(root, 'b.json');
  assert.equal((await w('backup', backup)).out, `Wallet backed up to ${backup}.\n`);
  // A relative destination is the user's, not the node's working directory.
  const rel = relative(process.cwd(), join(root, 'rel.json'));
  assert.equal((await w('backup', rel)).out, `Wallet backed up to ${join(root, 'rel.json')}.\n`);
  assert.ok(existsSync(join(root, 'rel.json')));
});

test('the installed entry point prints help and fails cleanly when no node runs', async () => {
  const run = promisify(execFile);
  const main = join('dist', 'src', 'cli', 'main.js');
  const help = await run(process.execPath, [main, 'wallet', 'send', '--help']);
  assert.match(help.stdout, /Usage: tally wallet send \[options\] <address> <amount>/);
  await assert.rejects(
    run(process.execPath, [
      main,
      '--datadir',
      root,
      '--network',
      'regtest',
      '--rpcport',
      '1',
      'wallet',
      'balance',
    ]),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(
        e.stderr,
        /^error: could not connect to the server 127\.0\.0\.1:1: is the node running\?[^\n]*\n$/,
      );
      return true;
    },
  );
});

test('--help works on every command and subcommand, exit 0, no stack', async () => {
  const paths: string[][] = [[]];
  const walk = (c: Command, path: string[]) => {
    for (const sub of c.commands) {
      paths.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  const none = new Writable({ write: (_c, _e, cb) => cb() });
  walk(buildProgram({ stdout: none, stderr: none, stdin: new PassThrough() }), []);
  for (const cmd of [
    'node',
    'rpc',
    'wallet',
    'create',
    'address',
    'balance',
    'send',
    'history',
    'unlock',
    'lock',
    'backup',
    'sendmany',
    'label',
    'sign-message',
    'verify-message',
    'bump-fee',
    'lock-coin',
    'unlock-coin',
    'locked-coins',
  ])
    assert.ok(
      paths.some((p) => p[p.length - 1] === cmd),
      `command ${cmd} exists`,
    );
  for (const p of paths) {
    const r = await cli(...p, '--help');
    assert.equal(r.code, 0, `${p.join(' ')} --help: ${r.err}`);
    assert.match(r.out, new RegExp(`^Usage: tally${p.map((w) => ' ' + w).join('')} `), p.join(' '));
    assert.equal(r.err, '');
  }
});

test('common options: after the arguments of a nested command, from --conf, --rpcconnect, --rpcuser', async () => {
  await wallets.create('opts');
  const w = () => ['--rpcwallet', 'opts'];
  // Every common option after the command and its arguments.
  const addr = await cli('wallet', 'address', '--label', 'x', ...w(), '--network', 'regtest', ...g());
  assert.equal(addr.code, 0, addr.err);
  const a = addr.out.trim();
  const chain = new ChainFixture();
  for (let h = 0; h < 2; h++) {
    const b = chain.next([coinbase(h, addressToScript(a, params.prefixes), 3n * COIN)], 77);
    wallets.get('opts').onBlockConnected(b, chain.push(b));
  }
  const sent = await cli(
    'wallet',
    'send',
    a,
    '0.5',
    '--fee-rate',
    '1',
    '--json',
    ...g(),
    '--network',
    'regtest',
    ...w(),
  );
  assert.equal(sent.code, 0, sent.err);
  assert.match(sent.out, /^[0-9a-f]{64}\n$/);
  const hist = await cli(
    '--json',
    '--network',
    'regtest',
    ...g(),
    ...w(),
    'wallet',
    'history',
    '--count',
    '1',
  );
  const entries = JSON.parse(hist.out) as { amount: number; category: string }[];
  assert.equal(entries.length, 1);
  assert.equal(typeof entries[0].amount, 'number');
  const which = await cli('--network', 'regtest', ...g(), 'wallet', 'balance');
  assert.equal(which.code, 1);
  assert.match(
    which.err,
    /^error: several wallets are loaded: choose one with `--wallet NAME` \(`tally wallet list` shows them\)\n$/,
  );
  const badCount = await cli('--network', 'regtest', ...g(), ...w(), 'wallet', 'history', '--count', 'x');
  assert.deepEqual(
    [badCount.code, badCount.err],
    [1, 'error: invalid --count x: expected a non-negative integer\n'],
  );

  // --conf: the port comes from the named file's [regtest] section.
  const conf = join(root, 'other.conf');
  writeFileSync(conf, `# test\n[regtest]\nrpcport=${server.port}\n`);
  const viaConf = await cli(
    'rpc',
    'getblockcount',
    '--conf',
    conf,
    '--datadir',
    root,
    '--network',
    'regtest',
  );
  assert.deepEqual(viaConf, { code: 0, out: '7\n', err: '' });
  const noConf = await cli('rpc', 'getblockcount', '--conf', join(root, 'missing.conf'), '--datadir', root);
  assert.equal(noConf.code, 1);
  assert.match(noConf.err, /^error: config file .*missing\.conf not found \(--conf\)\n$/);
  // --rpcconnect is where the CLI goes: another loopback address has no node.
  const elsewhere = await cli(
    'rpc',
    'getblockcount',
    '--rpcconnect',
    '127.0.0.2',
    '--network',
    'regtest',
    ...g(),
  );
  assert.equal(elsewhere.code, 1);
  assert.match(
    elsewhere.err,
    new RegExp(`^error: could not connect to the server 127\\.0\\.0\\.2:${server.port}`),
  );
  const here = await cli('rpc', 'getblockcount', '--rpcconnect', '127.0.0.1', '--network', 'regtest', ...g());
  assert.equal(here.out, '7\n');
  // Explicit credentials override the cookie; wrong ones are one clear line.
  const denied = await cli(
    '--network',
    'regtest',
    ...g(),
    '--rpcuser',
    'u',
    '--rpcpassword',
    'p',
    'rpc',
    'getblockcount',
  );
  assert.deepEqual(
    [denied.code, denied.err],
    [1, 'error: incorrect rpcuser or rpcpassword (authorization failed)\n'],
  );
  wallets.unload('opts');
});

test('wallet send: amounts in coins with at most 8 decimals, bad ones are one-line errors', async () => {
  const w = (...a: string[]) => cli('--network', 'regtest', ...g(), 'wallet', ...a);
  const dest = (await w('address')).out.trim();
  for (const bad of ['abc', '1.123456789', '0', '-1']) {
    const r = await w('send', dest, bad);
    assert.equal(r.code, 1, bad);
    assert.match(r.err, /^error: [^\n]*\(code -3\)\n$/, `${bad}: ${r.err}`);
  }
  const rate = await w('send', dest, '1', '--fee-rate', 'fast');
  assert.deepEqual(
    [rate.code, rate.err],
    [1, 'error: invalid --fee-rate fast: expected a number of base units per byte (sat/vB)\n'],
  );
  const missing = await w('send', dest);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /missing required argument 'amount'/);
});

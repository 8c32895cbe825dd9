import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli, parseRpcArg } from '../../src/cli/main.js';
import { RpcServer } from '../../src/rpc/server.js';
import { registerWalletMethods } from '../../src/rpc/wallet-methods.js';
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
  assert.equal(help.out, 'getblockcount\n');
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

  const locked = await w('send', addr, '1');
  assert.deepEqual(
    [locked.code, locked.err],
    [1, 'error: Error: Please enter the wallet passphrase with walletpassphrase first. (code -13)\n'],
  );
  const wrong = await w('unlock', '--passphrase', 'nope');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /passphrase entered was incorrect\. \(code -14\)/);
  const unlocked = await w('unlock', '--timeout', '60'); // passphrase from stdin
  assert.equal(unlocked.out, 'Wallet unlocked for 60 seconds.\n');
  const invalid = await w('send', 'notanaddress', '1');
  assert.equal(invalid.code, 1);
  assert.match(invalid.err, /^error: Invalid Tally address: .*\(code -5\)\n$/);
  const poor = await w('send', addr, '100');
  assert.equal(poor.err, 'error: Insufficient funds (code -6)\n');
  const sent = await w('send', addr, '1.25', '--fee-rate', '2');
  assert.equal(sent.code, 0, sent.err);
  assert.match(sent.out, /^[0-9a-f]{64}\n$/);
  const history = await w('history');
  assert.match(history.out, / send +-1\.25000000 +0 conf /);
  assert.equal((await w('lock')).out, 'Wallet locked.\n');
  const backup = join(root, 'b.json');
  assert.equal((await w('backup', backup)).out, `Wallet backed up to ${backup}.\n`);
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

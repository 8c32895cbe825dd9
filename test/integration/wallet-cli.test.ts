// `tally wallet` as a person uses it, against one real regtest node (issue 15): the subcommands
// over Core's wallet methods (sendmany, label, sign-message, verify-message, bump-fee,
// lock-coin/unlock-coin/locked-coins, backup), and every error a person meets printed as one line
// in the command line's terms (the command to run, the fee floor in sat/vB, the fee in coins and how
// to allow it, the network of a foreign address), never "Error:" twice, exit status 1. Commands
// run in this process (runCli) except one spawned `tally` to check the exit status and stderr.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, walletRpc, type TallyProcess } from './cluster.js';

const files = mkdtempSync(join(tmpdir(), 'tally-wallet-cli-'));
after(async () => {
  await stopAll();
  rmSync(files, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

function tallyOf(node: TallyProcess) {
  return async (...args: string[]): Promise<Run> => {
    let out = '';
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
    const stdin = new PassThrough();
    stdin.end();
    const code = await runCli(
      ['--network', 'regtest', '--datadir', node.datadir, '--rpcport', String(node.rpcPort), ...args],
      { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin },
    );
    return { code, out, err };
  };
}

/** A failure printed for people: exit 1, exactly one line, one "error:", no stack, no RPC wording. */
function assertErrorLine(r: Run, expected: RegExp): void {
  assert.equal(r.code, 1, `exit status of ${JSON.stringify(r)}`);
  assert.equal(r.out, '');
  assert.match(r.err, /^error: [^\n]+\n$/, r.err);
  assert.doesNotMatch(r.err, /error:.*error:/i, r.err);
  assert.doesNotMatch(r.err, /walletpassphrase|loadwallet|createwallet|\(code -?\d+\)| at \S+:\d+/, r.err);
  assert.match(r.err, expected);
}

test('tally wallet: the new subcommands and one-line errors in the command line terms', async () => {
  const node = await startNode();
  const tally = tallyOf(node);
  const w = (...a: string[]) => tally('wallet', ...a);

  // No wallet yet.
  assertErrorLine(
    await w('balance'),
    /^error: no wallet is loaded: run `tally wallet load NAME` \(or `tally wallet create`\)/,
  );

  const created = await w('create', '--passphrase', 'pw');
  assert.equal(created.code, 0, created.err);
  const phrase = /\n {2}((?:\w+ ){11}\w+)\n/.exec(created.out)![1];
  const mine = (await w('address', '--label', 'mining')).out.trim();
  await node.rpc('generatetoaddress', [110, mine]);
  const dest = (await w('address')).out.trim();

  // Locked: the command to run, from a real `tally` process (exit status and stderr as a shell sees them).
  const locked = await node.cli('wallet', 'send', dest, '1');
  assertErrorLine(
    { code: locked.code, out: locked.stdout, err: locked.stderr },
    /^error: the wallet is locked: run `tally wallet unlock` first\n$/,
  );
  assertErrorLine(
    await w('unlock', '--passphrase', 'nope'),
    /^error: wrong passphrase: the wallet stays locked\n$/,
  );
  assert.equal((await w('unlock', '--passphrase', 'pw', '--timeout', '600')).code, 0);

  // Fee floor in sat/vB; the ceiling in coins with the way to allow it; a foreign address's network.
  assertErrorLine(
    await w('send', dest, '1', '--fee-rate', '0'),
    /^error: fee rate too low: at least 1 sat\/vB \(the node's minimum relay fee\); raise --fee-rate\n$/,
  );
  assertErrorLine(
    await w('send', dest, '0.01', '--fee-rate', '1000000'),
    /^error: the fee would be 2\.\d{8} coins, above the node's ceiling of 0\.10000000 coins: lower --fee-rate, or allow it by starting the node with --maxtxfee 2\.\d{8} \(maxtxfee=2\.\d{8} in tally\.conf\)\n$/,
  );
  const mainAddr = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('main').prefixes);
  assertErrorLine(
    await w('send', mainAddr, '1'),
    /^error: that address belongs to Tally's main network, not to the regtest network this command uses \(use --network main for it\)\n$/,
  );
  assertErrorLine(await w('send', dest, '100000'), /^error: not enough coins for this payment and its fee/);

  // sendmany: pairs and a JSON file.
  const other = (await w('address')).out.trim();
  const many = await w('sendmany', `${dest}=1.5`, `${other}=0.25`, '--fee-rate', '2');
  assert.equal(many.code, 0, many.err);
  assert.match(many.out, /^[0-9a-f]{64}\npaid 2 addresses, fee 0\.0000\d{4} coins\n$/);
  const payments = join(files, 'payments.json');
  writeFileSync(payments, JSON.stringify({ [dest]: 0.5, [other]: '0.125' }));
  const fromFile = await tally('--json', 'wallet', 'sendmany', '--file', payments);
  assert.equal(fromFile.code, 0, fromFile.err);
  assert.match((JSON.parse(fromFile.out) as { txid: string }).txid, /^[0-9a-f]{64}$/);
  assertErrorLine(await w('sendmany', `${dest}:1`), /^error: invalid payment .*: expected ADDRESS=AMOUNT/);
  const tx = await node.rpc<{ details: { address: string; amount: number }[] }>('gettransaction', [
    (JSON.parse(fromFile.out) as { txid: string }).txid,
  ]);
  assert.ok(tx.details.some((d) => d.address === other && Math.abs(d.amount) === 0.125));

  // Labels: set, list, export (kept across a restore from the phrase with create --labels).
  assert.equal((await w('label', dest, 'friend')).out, `${dest} is labelled "friend".\n`);
  const labelLines = (r: Run) => r.out.trim().split('\n').sort();
  assert.deepEqual(labelLines(await w('label')), [`${mine}  mining`, `${dest}  friend`].sort());
  const labels = join(files, 'labels.json');
  writeFileSync(labels, '{}', { mode: 0o644 }); // replaced by an owner-only file
  assert.equal((await w('label', '--export', labels)).out, `2 labels written to ${labels}.\n`);
  assert.deepEqual(JSON.parse(readFileSync(labels, 'utf8')), { [mine]: 'mining', [dest]: 'friend' });
  assert.equal(statSync(labels).mode & 0o777, 0o600);

  // sign-message / verify-message.
  const sig = (await w('sign-message', dest, 'hello tally')).out.trim();
  assert.match(sig, /^[A-Za-z0-9+/]{87}=$/);
  assert.equal((await w('verify-message', dest, sig, 'hello tally')).out, 'The signature is valid.\n');
  assertErrorLine(
    await w('verify-message', dest, sig, 'hello tallx'),
    /^error: the signature does not sign this message with the key of /,
  );

  // bump-fee: a send at 1 sat/vB replaced by one at 5.
  const slow = (await w('send', other, '0.3', '--fee-rate', '1')).out.trim();
  const bumped = await w('bump-fee', slow, '--fee-rate', '5');
  assert.equal(bumped.code, 0, bumped.err);
  const [newTxid, feeLine] = bumped.out.trim().split('\n');
  assert.match(newTxid, /^[0-9a-f]{64}$/);
  assert.match(
    feeLine,
    new RegExp(`^fee raised from 0\\.0000\\d{4} to 0\\.0000\\d{4} coins; ${slow} is replaced$`),
  );
  assert.ok((await node.rpc<string[]>('getrawmempool')).includes(newTxid));

  // lock-coin / locked-coins / unlock-coin.
  const coin = (await node.rpc<{ txid: string; vout: number }[]>('listunspent'))[0];
  const op = `${coin.txid}:${coin.vout}`;
  assert.equal((await w('lock-coin', op)).out, '1 coin locked.\n');
  assert.equal((await w('locked-coins')).out, `${op}\n`);
  assertErrorLine(await w('lock-coin', 'nothex:1'), /^error: invalid coin nothex:1: expected TXID:VOUT\n$/);
  assertErrorLine(await w('unlock-coin'), /^error: name the coins \(TXID:VOUT\) to unlock, or add --all\n$/);
  assert.equal((await w('unlock-coin', '--all')).out, 'Every coin unlocked.\n');
  assert.equal((await w('locked-coins')).out, 'no locked coins\n');

  // backup refuses to overwrite unless --force.
  const backup = join(files, 'wallet-backup.json');
  assert.equal((await w('backup', backup)).code, 0);
  assertErrorLine(
    await w('backup', backup),
    new RegExp(
      `^error: ${backup.replace(/[.]/g, '\\.')} exists: choose another file, or add --force to replace it\\n$`,
    ),
  );
  assert.equal((await w('backup', backup, '--force')).code, 0);
  assert.ok(existsSync(backup));

  // Restored from the phrase, with the exported labels.
  const again = await w('create', '--name', 'again', '--mnemonic', phrase, '--labels', labels);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /2 labels set from /);
  // Two wallets loaded: name one.
  assertErrorLine(
    await w('balance'),
    /^error: several wallets are loaded: choose one with `--wallet NAME` \(`tally wallet list` shows them\)\n$/,
  );
  assert.deepEqual(
    labelLines(await tally('--wallet', 'again', 'wallet', 'label')),
    [`${mine}  mining`, `${dest}  friend`].sort(),
  );
  assertErrorLine(
    await tally('--wallet', 'nosuch', 'wallet', 'balance'),
    /^error: wallet "nosuch" is not loaded: run `tally wallet load nosuch`/,
  );
});

test('tally wallet export, import (key, address, export file) and restore', async () => {
  const node = await startNode({ args: ['--connect', '0'] });
  const tally = tallyOf(node);
  const w = (...a: string[]) => tally('--wallet', 'src', 'wallet', ...a);
  assert.equal((await tally('wallet', 'create', '--name', 'src')).code, 0);
  const addr = (await w('address', '--label', 'kept')).out.trim();
  await node.rpc('generatetoaddress', [101, addr]);
  const balance = (await w('balance')).out;

  const dump = join(files, 'export.txt');
  const exported = await w('export', dump);
  assert.equal(exported.code, 0, exported.err);
  assert.match(readFileSync(dump, 'utf8'), /^# Wallet dump created by Tally\n/);
  assertErrorLine(await w('export', dump), /exists: choose another file, or add --force to replace it\n$/);
  assert.equal((await w('export', dump, '--force')).code, 0);

  // A fresh wallet imports the export file: same balance.
  assert.equal((await tally('wallet', 'create', '--name', 'dst')).code, 0);
  const d = (...a: string[]) => tally('--wallet', 'dst', 'wallet', ...a);
  const imported = await d('import', dump);
  assert.equal(imported.code, 0, imported.err);
  assert.equal((await d('balance')).out, balance);

  // A WIF key and an address to watch.
  const wif = await walletRpc(node, 'src')<string>('dumpprivkey', [addr]);
  assert.equal((await tally('wallet', 'create', '--name', 'keys')).code, 0);
  const k = (...a: string[]) => tally('--wallet', 'keys', 'wallet', ...a);
  assert.match((await k('import', wif)).out, /^Private key imported\.\n$/);
  const watched = (await w('address')).out.trim();
  assert.match((await k('import', watched, '--label', 'theirs')).out, /watch-only/);
  assertErrorLine(
    await k('import', 'not-a-key-nor-address'),
    /^error: cannot import not-a-key-nor-address: not a private key \(WIF\), an address of this network, nor a file\n$/,
  );

  // A backup restored under a new name.
  const backup = join(files, 'src-backup.json');
  assert.equal((await w('backup', backup)).code, 0);
  const restored = await tally('wallet', 'restore', backup, '--name', 'copy');
  assert.equal(restored.code, 0, restored.err);
  assert.match(restored.out, /^Restored wallet "copy" from /);
  assert.equal((await tally('--wallet', 'copy', 'wallet', 'balance')).out, balance);
  assertErrorLine(
    await tally('wallet', 'restore', backup, '--name', 'copy'),
    /^error: a wallet named "copy" exists already: choose another with --name NAME\n$/,
  );
});

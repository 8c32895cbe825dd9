// Core's load_on_startup against a real `tally node` restarted (issue 15): createwallet,
// loadwallet, unloadwallet and restorewallet with true add the wallet to settings.json's "wallet"
// list (NETWORKDIR/settings.json, other settings kept), false removes it, null leaves it; a node
// restarted loads exactly the listed wallets (a listed one whose file is gone is skipped), and a
// node without the list loads every wallet file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, stopAll } from './cluster.js';

after(stopAll);

test('load_on_startup writes settings.json and a restarted node loads those wallets', async () => {
  const n = await startNode({ args: ['--connect', '0'] });
  const settingsFile = n.view(join(n.networkDir, 'settings.json'));
  const settings = () =>
    JSON.parse(readFileSync(settingsFile, 'utf8')) as { wallet?: string[]; other?: string };
  writeFileSync(settingsFile, JSON.stringify({ other: 'kept' }));

  const a = await n.rpc<{ name: string; warnings: string[] }>('createwallet', {
    wallet_name: 'a',
    load_on_startup: true,
  });
  assert.equal(a.name, 'a');
  assert.equal(a.warnings.length, 1, 'the unencrypted-wallet warning, and no settings warning');
  assert.deepEqual(settings(), { other: 'kept', wallet: ['a'] });
  await n.rpc('createwallet', ['b']);
  await n.rpc('createwallet', { wallet_name: 'c', load_on_startup: null });
  assert.deepEqual(settings().wallet, ['a'], 'absent or null leaves the list');
  await n.rpc('createwallet', { wallet_name: 'd', passphrase: 'pw', load_on_startup: true });
  assert.deepEqual(settings().wallet, ['a', 'd']);

  assert.deepEqual(await n.rpc('unloadwallet', { wallet_name: 'd', load_on_startup: false }), {});
  assert.deepEqual(settings().wallet, ['a']);
  assert.deepEqual(await n.rpc('unloadwallet', ['b']), {});
  assert.deepEqual(await n.rpc('loadwallet', { filename: 'b', load_on_startup: true }), { name: 'b' });
  assert.deepEqual(await n.rpc('loadwallet', ['d']), { name: 'd' });
  await n.rpc('unloadwallet', { wallet_name: 'a', load_on_startup: true });
  assert.deepEqual(settings(), { other: 'kept', wallet: ['a', 'b'] }, 'true twice lists it once');

  // restorewallet too; then a listed wallet whose file is gone.
  const backup = n.view(join(n.datadir, 'b-backup.json'));
  await n.rpc('unloadwallet', ['b']);
  await n.rpc('loadwallet', ['a']);
  const wA = await n.rpc('listwallets');
  assert.deepEqual(wA, ['a', 'c', 'd']);
  await n.rpc('unloadwallet', ['c']);
  await n.rpc('unloadwallet', ['d']);
  await n.rpc('backupwallet', [backup]);
  await n.rpc('restorewallet', { wallet_name: 'r', backup_file: backup, load_on_startup: true });
  assert.deepEqual(settings().wallet, ['a', 'b', 'r']);
  writeFileSync(settingsFile, JSON.stringify({ ...settings(), wallet: ['a', 'gone', 'b', 'r'] }));

  await n.restart();
  assert.deepEqual(await n.rpc('listwallets'), ['a', 'b', 'r'], 'the listed wallets, not c or d');
  assert.equal(settings().other, 'kept');

  // Without a "wallet" list every wallet file loads, as before load_on_startup.
  rmSync(settingsFile);
  await n.restart();
  assert.deepEqual(await n.rpc('listwallets'), ['a', 'b', 'c', 'd', 'r']);
});

// Owner-only files everywhere (issue 12: "Files created owner-only, 0700 folders, 0600 files"):
// a real `tally node` with every optional store on (txindex, blockfilterindex, coinstatsindex, a
// pid file) is used as a user would: a wallet that sends, `tally anchor` run as its own process
// (the test's own umask, 022, not the node's), backupwallet, dumpwallet and dumptxoutset into the
// data directory, a ban. While it runs and after it stopped, every file and folder under the data
// directory lets nobody but its owner in, and each kind named below is there to be checked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openToOthers, startNode, stopAll } from './cluster.js';

// The user's own file to anchor, outside the data directory.
const userDir = mkdtempSync(join(tmpdir(), 'tally-modes-'));
after(async () => {
  await stopAll();
  rmSync(userDir, { recursive: true, force: true });
});

test('a used data directory holds only owner-only files and folders (blocks, indexes, anchors, dumps)', async () => {
  const n = await startNode({
    args: ['--txindex', '--blockfilterindex', '--coinstatsindex', '--pid', 'tally.pid'],
  });
  await n.rpc('createwallet', ['w']);
  const addr = await n.rpc<string>('getnewaddress');
  await n.rpc('generatetoaddress', [103, addr]);
  await n.rpc('sendtoaddress', [addr, 1]);
  const doc = join(userDir, 'contract.txt');
  writeFileSync(doc, 'a contract\n');
  const anchored = await n.cli('--json', 'anchor', doc);
  assert.equal(anchored.code, 0, anchored.stderr);
  const { txid } = JSON.parse(anchored.stdout) as { txid: string };
  await n.rpc('generatetoaddress', [1, addr]);
  const net = n.networkDir;
  await n.rpc('backupwallet', [join(net, 'backup.json')]);
  await n.rpc('dumpwallet', [join(net, 'dump.txt')]);
  await n.rpc('dumptxoutset', ['utxo.dat', 'latest']);
  await n.rpc('setban', ['10.9.8.7', 'add', 600]);
  await n.rpc('sendtoaddress', [addr, 2]); // something for mempool.dat

  const present = () => new Set(readdirSync(net, { recursive: true }).map(String));
  const running = present();
  for (const want of ['.cookie', '.lock', 'tally.pid', 'debug.log'])
    assert.ok(running.has(want), `no ${want} while running: ${[...running].join(' ')}`);
  assert.deepEqual(openToOthers(n.datadir), [], 'while running');

  await n.stop();
  const files = present();
  for (const want of [
    'blocks',
    join('blocks', 'blk00000.dat'),
    join('blocks', 'rev00000.dat'),
    join('blocks', 'index'),
    'chainstate',
    join('indexes', 'txindex'),
    join('indexes', 'blockfilter', 'basic'),
    join('indexes', 'coinstats'),
    join('wallets', 'w.json'),
    join('anchors', `${txid}.json`),
    'backup.json',
    'dump.txt',
    'utxo.dat',
    'banlist.json',
    'mempool.dat',
    'debug.log',
  ])
    assert.ok(files.has(want), `no ${want} in ${[...files].sort().join(' ')}`);
  // What only a running node holds is gone (the pid file too, as Core's RemovePidFile).
  for (const gone of ['.cookie', '.lock', 'tally.pid'])
    assert.ok(!files.has(gone), `${gone} left after the stop`);
  assert.deepEqual(openToOthers(n.datadir), [], 'after the stop');
});

// Start-up against a damaged database, with real `tally node` processes: a deleted
// chainstate/CURRENT or MANIFEST stops the node with one line naming the path, the cause and the
// remedy, and never creates a new database over the old one (its table files stay as they were).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTally, startNode, stopAll } from './cluster.js';

const dirs: string[] = [];
after(async () => {
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a deleted CURRENT or MANIFEST is refused in one line; the old database is never replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-startup-'));
  dirs.push(dir);
  const node = await startNode({ datadir: dir });
  await node.stop();
  const chainstate = join(dir, 'regtest', 'chainstate');
  const files = readdirSync(chainstate).sort();
  const start = () =>
    runTally(['--network', 'regtest', '--datadir', dir, 'node', '--port', '0', '--rpcport', '0']);

  copyFileSync(join(chainstate, 'CURRENT'), join(dir, 'CURRENT.saved'));
  unlinkSync(join(chainstate, 'CURRENT'));
  let r = await start();
  assert.notEqual(r.code, 0);
  const line = r.stderr.trim();
  assert.equal(line.split('\n').length, 1, r.stderr);
  assert.ok(line.includes(chainstate), line);
  assert.match(line, /CURRENT file is missing/);
  assert.match(line, /restore that folder from a backup/);
  assert.deepEqual(
    readdirSync(chainstate).sort(),
    files.filter((f) => f !== 'CURRENT'),
    'nothing created or deleted',
  );

  copyFileSync(join(dir, 'CURRENT.saved'), join(chainstate, 'CURRENT'));
  const manifest = files.find((f) => f.startsWith('MANIFEST-'))!;
  unlinkSync(join(chainstate, manifest));
  r = await start();
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.includes(chainstate) && r.stderr.includes(manifest), r.stderr);
  // LevelDB writes its own LOG on each try; the data files (tables, .log, CURRENT) stay as they were.
  const data = (names: string[]) => names.filter((f) => !f.startsWith('LOG'));
  assert.deepEqual(
    data(readdirSync(chainstate)).sort(),
    data(files).filter((f) => f !== manifest),
  );
});

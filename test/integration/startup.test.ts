// Start-up against a damaged database, with real `tally node` processes: a deleted
// chainstate/CURRENT or MANIFEST stops the node with one line naming the path, the cause and the
// remedy, and never creates a new database over the old one (its table files stay as they were).
// A first start killed while it created its databases (the chain state made, the block index not
// yet, or LevelDB's creation cut before CURRENT) starts cleanly next time: nothing was lost.
// While a node warms up (here: rebuilding its UTXO set with --reindex-chainstate), RPC answers
// Core's -28 with the stage, never "Method not found", and help/uptime are answered meanwhile.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { RpcError } from '../../src/rpc/errors.js';
import { RpcClient } from '../../src/rpc/client.js';
import { ClassicLevel } from 'classic-level';
import { freePort, runTally, startNode, stopAll } from './cluster.js';

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

/** What LevelDB leaves when killed while creating a database, before CURRENT names it. */
function cutShortCreation(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'LOCK'), '');
  writeFileSync(join(dir, 'LOG'), 'Creating DB\n');
  writeFileSync(join(dir, 'MANIFEST-000001'), Uint8Array.of(0x56, 0x0b, 0x21, 0x7a));
}

test('a first start killed while creating its databases starts cleanly the next time', async () => {
  const to = encodeAddress('pubkeyhash', new Uint8Array(20).fill(4), getParams('regtest').prefixes);
  const starts: [string, (net: string) => Promise<void>][] = [
    [
      // Killed after creating chainstate/ and before blocks/index/: an empty chain state, no index.
      'chain state only',
      async (net) => {
        const db = new ClassicLevel(join(net, 'chainstate'));
        await db.open();
        await db.close();
      },
    ],
    [
      // ... or while LevelDB created the index: its lock, log and MANIFEST but no CURRENT.
      'chain state and a cut-short index',
      async (net) => {
        const db = new ClassicLevel(join(net, 'chainstate'));
        await db.open();
        await db.close();
        cutShortCreation(join(net, 'blocks', 'index'));
      },
    ],
    // ... or while it created the chain state itself.
    ['a cut-short chain state', async (net) => cutShortCreation(join(net, 'chainstate'))],
    [
      // ... or inside the genesis write, after the index and before the chain state (two
      // databases): the index holds genesis, the chain state neither coin nor marker. Before the
      // fix: "no best-block marker (restart with reindex)" (crash-recovery.test.ts, idle run).
      'the index written, the chain state empty',
      async (net) => {
        const dir = dirname(net);
        const first = await startNode({ datadir: dir });
        await first.stop();
        const db = new ClassicLevel(join(net, 'chainstate'));
        await db.open();
        await db.clear();
        await db.close();
      },
    ],
  ];
  for (const [what, leave] of starts) {
    const dir = mkdtempSync(join(tmpdir(), 'tally-startup-'));
    dirs.push(dir);
    await leave(join(dir, 'regtest'));
    const node = await startNode({ datadir: dir }).catch((e: Error) => {
      throw new Error(`${what}: ${e.message}`);
    });
    assert.equal(await node.rpc('getblockcount'), 0, what);
    await node.rpc('generatetoaddress', [1, to]);
    await node.restart([]);
    assert.equal(await node.rpc('getblockcount'), 1, what);
    await node.stop();
  }
});

test("RPC during start-up answers -28 with the stage (Core's warm-up), then the chain", async (t) => {
  const node = await startNode();
  const to = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), getParams('regtest').prefixes);
  await node.rpc('generatetoaddress', [600, to]);
  await node.stop();
  // A known port, so the test can call before "Tally started" names it.
  const port = await freePort();
  node.args = ['--reindex-chainstate', '--rpcport', String(port)];
  const client = new RpcClient({ port, cookieFile: join(node.networkDir, '.cookie'), timeoutMs: 10_000 });
  let started = false;
  const starting = node.start().finally(() => (started = true));
  const seen = new Map<string, number>(); // "code message" -> count
  let uptime: unknown;
  while (!started) {
    try {
      await client.call('getblockchaininfo');
    } catch (e) {
      if (e instanceof RpcError) {
        const k = `${e.code} ${e.message}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        if (e.code === -28 && uptime === undefined) uptime = await client.call('uptime');
      } // else not listening yet, or no cookie yet
    }
    await new Promise((r) => setTimeout(r, 5)); // a poll, not a wait for state
  }
  await starting;
  const answers = [...seen.keys()];
  t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
  assert.ok(answers.length > 0, 'no answer while warming up');
  for (const a of answers)
    assert.match(a, /^-28 (Loading block index|Verifying blocks|Loading wallets|Loading mempool)\.\.\.$/);
  assert.equal(typeof uptime, 'number', 'uptime answered during the warm-up');
  assert.equal((await node.rpc<{ blocks: number }>('getblockchaininfo')).blocks, 600);
});

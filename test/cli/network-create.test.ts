// `tally network create`'s rule flags (issue 17: --spacing, --half-life, --max-block-size,
// --subsidy, --prefix-p2pkh/-p2sh/-wif, --seed) as a user runs them: each lands in the file, which
// `tally network show` reads back; a bad value is one line naming the flag; and a network file
// named by `chain=` in tally.conf runs from ~/.tally/NAME as `--chain` does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/node/config.js';
import { runTally } from '../integration/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-netcreate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'guild.json');
const easy = ['--pow-limit', '207fffff', '--threads', '1'];

test('every rule flag of `tally network create` is in the file `tally network show` reads', async () => {
  const created = await runTally([
    'network',
    'create',
    'guild',
    ...easy,
    '--out',
    file,
    '--seed',
    'ws://192.0.2.1:30001',
    '--seed',
    'ws://192.0.2.2:30001',
    '--spacing',
    '120',
    '--half-life',
    '7200',
    '--max-block-size',
    '250000',
    '--subsidy',
    '12.5',
    '--prefix-p2pkh',
    '38',
    '--prefix-p2sh',
    '50',
    '--prefix-wif',
    '166',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const show = await runTally(['network', 'show', file, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const d = JSON.parse(show.stdout) as Record<string, unknown>;
  assert.equal(d.name, 'guild');
  assert.deepEqual(d.seeds, ['ws://192.0.2.1:30001', 'ws://192.0.2.2:30001']);
  assert.equal(d.target_spacing, 120);
  assert.equal(d.retarget, 'ASERT, half-life 7200 s');
  assert.equal(d.max_block_size, 250000);
  assert.equal(d.subsidy, '12.50000000');
  assert.deepEqual(d.prefixes, { pubkeyHash: 38, scriptHash: 50, wif: 166 });
  assert.match(String(d.genesis_message), /^guild: a Tally network created .*, 120 s blocks$/);
  assert.match(created.stderr, /genesis mined in .* hashes on 1 thread\); wrote /);
  // Mined at creation time, so ASERT starts on schedule.
  assert.ok(Math.abs(Date.parse(String(d.genesis_time)) - Date.now()) < 5 * 60_000, String(d.genesis_time));
});

test('the genesis block is mined on all cores unless --threads says otherwise', async () => {
  const out = join(dir, 'cores.json');
  const r = await runTally(['network', 'create', 'cores', '--pow-limit', '207fffff', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const n = availableParallelism();
  assert.match(r.stderr, new RegExp(`hashes on ${n} thread${n === 1 ? '' : 's'}\\); wrote `));
});

test('a bad rule value is one line naming the flag, and no file', async () => {
  for (const [flag, value, why] of [
    ['--spacing', '0', /^error: --spacing: expected an integer 1\.\.86400, got 0\n$/],
    ['--max-block-size', '10', /^error: --max-block-size: expected an integer 1000\.\.32000000, got 10\n$/],
    ['--subsidy', '1.123456789', /^error: invalid --subsidy 1\.123456789: expected coins/],
    ['--prefix-p2pkh', '300', /^error: --prefix-p2pkh: expected an integer 0\.\.255, got 300\n$/],
    ['--half-life', 'soon', /^error: invalid --half-life soon: expected a non-negative integer\n$/],
  ] as const) {
    const out = join(dir, `bad${flag}.json`);
    const r = await runTally(['network', 'create', 'bad', ...easy, '--out', out, flag, value]);
    assert.equal(r.code, 1, `${flag} ${value}: ${r.stdout}`);
    assert.match(r.stderr.replace(/^mining the genesis block of bad\.\.\.\n/, ''), why);
    assert.equal(existsSync(out), false, `${flag} ${value} left ${out}`);
  }
});

test('chain=FILE in tally.conf runs the network from ~/.tally/NAME, as --chain does', () => {
  const home = join(dir, 'home');
  const fromConf = loadConfig({}, { home, readConf: () => `chain=${file}\n` });
  assert.equal(fromConf.network, 'guild');
  assert.equal(fromConf.chainFile, file);
  assert.equal(fromConf.networkDir, join(home, '.tally', 'guild'));
  const fromFlag = loadConfig({ chain: file }, { home, readConf: () => undefined });
  assert.equal(fromFlag.networkDir, fromConf.networkDir);
});

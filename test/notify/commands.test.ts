// Notification commands: Core's placeholders, and nothing Tally substitutes can start shell syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { NotifyCommands, sanitize, shellQuote, substitute } from '../../src/notify/commands.js';
import { waitFor } from '../integration/cluster.js';

test('substitute replaces each placeholder once, in one pass, leaving unknown ones', () => {
  assert.equal(substitute('a %s b %s %x %%', { s: 'H' }), 'a H b H %x %%');
  assert.equal(substitute('%s', { s: '%s%w', w: 'no' }), '%s%w');
});

test('a quoted, sanitized value is one shell word whatever it holds', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      const q = shellQuote(sanitize(s));
      assert.match(q, /^'[A-Za-z0-9 .,;\-_/:?@()]*'$/);
    }),
  );
  assert.equal(shellQuote("it's"), `'it'"'"'s'`);
});

test('blocknotify, walletnotify, alertnotify and startupnotify run with their substitutions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-notify-'));
  try {
    const out = join(dir, 'out');
    const n = new NotifyCommands({
      blocknotify: `echo block %s >> ${out}`,
      walletnotify: `echo wallet %s %w %b %h >> ${out}`,
      alertnotify: `echo alert %s >> ${out}`,
      startupnotify: `echo started >> ${out}`,
    });
    n.startup();
    await waitFor(() => existsSync(out), 5000);
    n.blockTip('ab'.repeat(32));
    await waitFor(() => readFileSync(out, 'utf8').includes('block'), 5000);
    n.walletTx("my'wallet;rm -rf x", 'cd'.repeat(32), null, null);
    await waitFor(() => readFileSync(out, 'utf8').includes('wallet'), 5000);
    n.alert('disk $(touch pwned) full; `id`');
    await waitFor(() => readFileSync(out, 'utf8').includes('alert'), 5000);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.deepEqual(lines, [
      'started',
      `block ${'ab'.repeat(32)}`,
      `wallet ${'cd'.repeat(32)} mywallet;rm -rf x unconfirmed -1`,
      'alert disk (touch pwned) full; id',
    ]);
    assert.equal(existsSync(join(process.cwd(), 'pwned')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

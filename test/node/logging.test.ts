import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createLogging, formatConsoleLine } from '../../src/node/logging.js';

test('debug.log gets JSON lines tagged by subsystem; console gets readable lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-log-'));
  const lines: string[] = [];
  const logging = createLogging({
    dir,
    level: 'info',
    debug: ['net'],
    printToConsole: true,
    console: { write: (l: string) => lines.push(l) },
  });
  logging.child('chain').info({ height: 5 }, 'connected block');
  logging.child('chain').debug('hidden');
  logging.child('net').debug('peer says hi');
  logging.root.debug('root hidden');
  await logging.close();
  const entries = readFileSync(join(dir, 'debug.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    entries.map((e) => [e.sub, e.msg]),
    [
      ['chain', 'connected block'],
      ['net', 'peer says hi'],
    ],
  );
  assert.equal(entries[0].height, 5);
  assert.match(entries[0].time as string, /^\d{4}-\d\d-\d\dT/);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[chain\] connected block height=5\n$/);
  rmSync(dir, { recursive: true, force: true });
});

test('console formatter tolerates non-JSON', () => {
  assert.equal(formatConsoleLine('plain', false), 'plain');
  const colored = formatConsoleLine('{"level":50,"time":"2024-01-01T10:00:00.000Z","msg":"x y"}', true);
  assert.ok(colored.startsWith('10:00:00.000 \x1b[31mERROR'), colored);
});

test('console formatter: any text or JSON value gives a string, never an exception', () => {
  for (const v of ['null', '5', '"s"', '[1]', 'true']) assert.equal(formatConsoleLine(v, false), v);
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 80 }), fc.json({ maxDepth: 2 })),
      fc.boolean(),
      (text, color) => {
        assert.equal(typeof formatConsoleLine(text, color), 'string');
      },
    ),
    { numRuns: 200 },
  );
});

test('a debug.log that cannot be written (disk full: /dev/full) is said once on stderr, never thrown; SIGHUP reopen resumes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-log-'));
  const path = join(dir, 'debug.log');
  symlinkSync('/dev/full', path);
  const said: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string) => said.push(String(chunk)) > 0;
  try {
    const logging = createLogging({ dir, level: 'info', printToConsole: false });
    const log = logging.child('chain');
    for (let i = 0; i < 50; i++) {
      log.info({ i }, 'a line');
      await new Promise((r) => setImmediate(r));
    }
    const deadline = Date.now() + 5_000;
    while (said.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 50; i++) log.info({ i }, 'dropped while failed');
    await new Promise((r) => setTimeout(r, 50)); // lets any further error surface (none may repeat the line)
    assert.equal(
      said.filter((l) => l.startsWith('debug.log: cannot write (ENOSPC)')).length,
      1,
      said.join(''),
    );
    // Space is back (the operator rotated the file): SIGHUP's reopen writes again.
    unlinkSync(path);
    writeFileSync(path, '');
    logging.reopen();
    log.info('after reopen');
    await logging.close();
    assert.match(readFileSync(path, 'utf8'), /after reopen/);
  } finally {
    process.stderr.write = write;
    rmSync(dir, { recursive: true, force: true });
  }
});

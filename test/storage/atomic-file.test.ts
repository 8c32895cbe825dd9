import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/storage/atomic-file.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tally-atomic-'));

test('writeFileAtomic replaces the file, owner-only, creating the folder 0700, leaving no temporary file', () => {
  const d = dir();
  const p = join(d, 'sub', 'f.json');
  writeFileAtomic(p, 'one');
  writeFileAtomic(p, Uint8Array.of(0x74, 0x77, 0x6f));
  assert.equal(readFileSync(p, 'utf8'), 'two');
  assert.equal(statSync(p).mode & 0o777, 0o600);
  assert.equal(statSync(join(d, 'sub')).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(join(d, 'sub')), ['f.json']);
});

test('writeFileAtomic gives the requested mode even over a leftover temporary file', () => {
  const d = dir();
  const p = join(d, 'f');
  writeFileSync(`${p}.tmp-${process.pid}`, 'stale', { mode: 0o666 });
  chmodSync(`${p}.tmp-${process.pid}`, 0o666);
  writeFileAtomic(p, 'x', { mode: 0o640 });
  assert.equal(statSync(p).mode & 0o777, 0o640);
});

test('a failed write throws the file system error, keeps the old file and removes the temporary one', () => {
  const d = dir();
  const p = join(d, 'target');
  mkdirSync(p); // renaming a file over a folder fails
  assert.throws(() => writeFileAtomic(p, 'data'), /EISDIR|ENOTDIR|EEXIST|EPERM/);
  assert.ok(statSync(p).isDirectory());
  assert.deepEqual(readdirSync(d), ['target']);
});

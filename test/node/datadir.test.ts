import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DataDirLock, DataDirLockedError } from '../../src/node/datadir.js';

test('lock: created with our pid, a second lock refused, released on release()', () => {
  const base = mkdtempSync(join(tmpdir(), 'tally-dd-'));
  const dir = join(base, 'regtest');
  const lock = DataDirLock.acquire(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(process.pid));
  assert.throws(() => DataDirLock.acquire(dir), DataDirLockedError);
  lock.release();
  assert.equal(existsSync(join(dir, '.lock')), false);
  DataDirLock.acquire(dir).release();
  rmSync(base, { recursive: true, force: true });
});

test('lock: a live other process holds it; a dead pid is taken over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-dd-'));
  writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
  assert.throws(
    () => DataDirLock.acquire(dir),
    (e: unknown) => e instanceof DataDirLockedError && e.message.includes(`pid ${process.ppid}`),
  );
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  writeFileSync(join(dir, '.lock'), `${dead}\n`);
  const lock = DataDirLock.acquire(dir);
  assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(process.pid));
  lock.release();
  writeFileSync(join(dir, '.lock'), 'garbage');
  DataDirLock.acquire(dir).release();
  rmSync(dir, { recursive: true, force: true });
});

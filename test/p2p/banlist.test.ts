// Ban entries for hosts and subnets: Core's setban forms, canonical keys, expiry; a ban file that
// cannot be written (a full disk) is told once and the bans hold in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BanList, parseSubnet, subnetContains } from '../../src/p2p/banlist.js';

test('parseSubnet takes Core setban forms and keys them canonically', () => {
  assert.equal(parseSubnet('1.2.3.4')?.key, '1.2.3.4');
  assert.equal(parseSubnet('1.2.3.4/32')?.key, '1.2.3.4');
  assert.equal(parseSubnet('1.2.3.4/24')?.key, '1.2.3.0/24');
  assert.equal(parseSubnet('1.2.3.4/255.255.0.0')?.key, '1.2.0.0/16');
  assert.equal(parseSubnet('2001:db8::5/32')?.key, '2001:db8::/32');
  assert.equal(parseSubnet('::ffff:9.8.7.6')?.key, '9.8.7.6');
  for (const bad of ['host.example', '1.2.3.4/33', '1.2.3.4/255.0.255.0', '1.2.3.4/8/8', '::1/129', ''])
    assert.equal(parseSubnet(bad), null, bad);
  const net = parseSubnet('10.0.0.0/8')!;
  assert.equal(subnetContains(net, '10.200.1.1'), true);
  assert.equal(subnetContains(net, '::ffff:10.0.0.1'), true);
  assert.equal(subnetContains(net, '11.0.0.1'), false);
  assert.equal(subnetContains(net, 'host.example'), false);
});

test('BanList bans hosts inside a banned subnet until it expires', () => {
  let now = 1_000_000;
  const bans = new BanList(undefined, () => now);
  bans.ban('fd00::/8', 60_000, 'test');
  bans.ban('192.168.0.0/16', 10_000, 'test');
  assert.equal(bans.isBanned('fd12::1'), true);
  assert.equal(bans.isBanned('192.168.7.7'), true);
  assert.equal(bans.isBanned('192.169.0.1'), false);
  assert.equal(bans.has('192.168.0.0/16'), true);
  assert.equal(bans.has('192.168.7.7'), false);
  now += 20_000;
  assert.equal(bans.isBanned('192.168.7.7'), false);
  assert.equal(bans.isBanned('fd12::1'), true);
  assert.equal(bans.unban('fd00::/8'), true);
  assert.equal(bans.isBanned('fd12::1'), false);
});

test('a ban file that cannot be written is told once and the bans hold', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-banlist-'));
  try {
    // A file where the folder should be: every write fails (as on a full disk).
    writeFileSync(join(dir, 'folder'), '');
    const told: unknown[] = [];
    const bans = new BanList(join(dir, 'folder', 'banlist.json'), Date.now, (e) => told.push(e));
    bans.ban('10.1.1.1', 60_000, 'test');
    bans.ban('10.2.2.2', 60_000, 'test');
    assert.equal(bans.isBanned('10.1.1.1') && bans.isBanned('10.2.2.2'), true);
    assert.equal(told.length, 1);
    assert.match(String(told[0]), /ENOTDIR|EEXIST/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

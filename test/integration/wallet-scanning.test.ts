// getwalletinfo.scanning and abortrescan against a real node (issue 15): while rescanblockchain reads
// a few thousand blocks, a second caller sees {duration, progress} rising, then false once it ends;
// abortrescan stops it (Core's -1 "Rescan aborted by user." to the first caller), only for the
// wallet scanning and only once; an import's rescan shows too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { rpcFails, startNode, stopAll, walletRpc } from './cluster.js';

after(stopAll);

const BLOCKS = 2500;
type Scanning = false | { duration: number; progress: number };

test('getwalletinfo.scanning while a rescan runs; abortrescan stops it', async () => {
  // Blocks paying an outside address: the rescan reads them and records nothing, so it is quick.
  const node = await startNode({ args: ['--connect', '0'] });
  await node.rpc('createwallet', ['w']);
  const outside = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), getParams('regtest').prefixes);
  await node.rpc('generatetoaddress', [BLOCKS, outside]);
  await node.rpc('createwallet', ['idle']);
  const w = walletRpc(node, 'w');
  const idle = walletRpc(node, 'idle');
  // A second connection, as a second caller would have.
  const watcher = walletRpc(node, 'w');
  const scanning = async (call = watcher) => (await call<{ scanning: Scanning }>('getwalletinfo')).scanning;
  assert.equal(await scanning(), false);

  // A whole rescan: seen in progress by the second caller, false once the first has its answer.
  const seen: Exclude<Scanning, false>[] = [];
  let done = false;
  const full = w<{ start_height: number; stop_height: number }>('rescanblockchain').finally(
    () => (done = true),
  );
  while (!done) {
    const s = await scanning();
    if (s !== false) seen.push(s);
  }
  assert.deepEqual(await full, { start_height: 0, stop_height: BLOCKS });
  assert.ok(seen.length > 0, 'the rescan was seen running');
  for (const s of seen) {
    assert.ok(Number.isInteger(s.duration) && s.duration >= 0, JSON.stringify(s));
    assert.ok(s.progress >= 0 && s.progress < 1, JSON.stringify(s));
  }
  assert.ok(
    seen.every((s, i) => i === 0 || s.progress >= seen[i - 1].progress),
    'progress never goes back',
  );
  assert.equal(await scanning(), false);

  // abortrescan: false for a wallet not scanning, true once for the scanning one; the rescan ends
  // with Core's error and the wallet is no longer scanning.
  const aborted = w('rescanblockchain');
  let over = false;
  const settled = aborted.then(
    () => (over = true),
    () => (over = true),
  );
  while (!over && (await scanning()) === false);
  assert.equal(over, false, 'the second rescan was seen running');
  assert.equal(await scanning(idle), false);
  assert.equal(await idle('abortrescan'), false);
  assert.equal(await watcher('abortrescan'), true);
  assert.equal(await watcher('abortrescan'), false);
  await assert.rejects(aborted, rpcFails(-1, /^Rescan aborted by user\.$/));
  await settled;
  assert.equal(await scanning(), false);
  assert.equal(await watcher('abortrescan'), false);

  // An import's rescan (importaddress reads from genesis) shows the same way.
  let imported = false;
  const importing = w('importaddress', [outside, 'watched', true]).finally(() => (imported = true));
  let during: Scanning = false;
  while (!imported && during === false) during = await scanning();
  assert.notEqual(during, false, 'the import rescan was seen running');
  await importing;
  assert.equal(await scanning(), false);
  assert.ok((await w<{ watchonly?: { trusted: number } }>('getbalances')).watchonly!.trusted > 0);
});

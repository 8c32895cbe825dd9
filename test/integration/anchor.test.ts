// `tally anchor` against a real node, run as a user runs it (the main path spawned, the variants
// through the same command line in this process): three files anchored in one
// transaction whose OP_RETURN holds "tally:anchor:1" and the tree's root; `anchor proof` before
// the block refuses, after it writes a proof that `anchor verify` accepts with the node (depth)
// and without one (offline), whose block part verifytxoutproof accepts; one changed byte of the
// file, an edited path or a block taken off the best chain makes verify fail with exit status 1
// and one line. A single file's anchor is its SHA-256, checked here from the raw transaction.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { freePort, runTally, startNode, stopAll, type CliResult, type TallyProcess } from './cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-anchor-'));
after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The same command line run in this process (a spawn costs seconds on a loaded machine). */
async function cliHere(n: TallyProcess, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        add(chunk.toString());
        done();
      },
    });
  const code = await runCli(
    ['--network', 'regtest', '--datadir', n.datadir, '--rpcport', String(n.rpcPort), ...args],
    {
      stdout: sink((t) => (stdout += t)),
      stderr: sink((t) => (stderr += t)),
      stdin: Readable.from([]),
    },
  );
  return { code, stdout, stderr };
}

test('tally anchor, anchor proof and anchor verify against a real node', async () => {
  const n = await startNode();
  await n.rpc('createwallet', ['w']);
  await n.rpc('generatetoaddress', [101, await n.rpc<string>('getnewaddress')]);
  const files = ['a.txt', 'b.pdf', 'c.bin'].map((name, i) => {
    const f = join(dir, name);
    writeFileSync(f, `record ${i}: ${'x'.repeat(1000 * i)}`);
    return f;
  });
  const anchored = await n.cli('--json', 'anchor', ...files);
  assert.equal(anchored.code, 0, anchored.stderr);
  const record = JSON.parse(anchored.stdout) as { txid: string; root: string };
  // The record (which files, their hashes) is owner-only, in an owner-only folder.
  const anchors = join(n.networkDir, 'anchors');
  assert.equal(statSync(join(anchors, `${record.txid}.json`)).mode & 0o777, 0o600);
  assert.equal(statSync(anchors).mode & 0o777, 0o700);

  const early = await cliHere(n, 'anchor', 'proof', record.txid, files[1]);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /^error: transaction \w+ is not in a block yet/);

  await n.rpc('generatetoaddress', [1, await n.rpc<string>('getnewaddress')]);
  const proofRun = await n.cli('anchor', 'proof', record.txid, files[1]);
  assert.equal(proofRun.code, 0, proofRun.stderr);
  const proof = JSON.parse(proofRun.stdout) as { txoutproof: string; path: { hash: string }[]; root: string };
  assert.equal(proof.root, record.root);
  assert.equal(proof.path.length, 2);
  const proofFile = join(dir, 'b.proof');
  writeFileSync(proofFile, proofRun.stdout);
  assert.deepEqual(await n.rpc('verifytxoutproof', [proof.txoutproof]), [record.txid]);
  // One byte of the block part changed (a hash in its Merkle branch, past the 80-byte header and
  // the transaction count): verifytxoutproof no longer proves the transaction, nor does anchor verify.
  const flipped = Buffer.from(proof.txoutproof, 'hex');
  flipped[90] ^= 1;
  const refused = await n
    .rpc<string[]>('verifytxoutproof', [flipped.toString('hex')])
    .catch((e: Error) => [e.message]);
  assert.ok(!refused.includes(record.txid), `verifytxoutproof of a changed proof: ${refused.join(', ')}`);
  const changedProof = join(dir, 'changed.proof');
  writeFileSync(changedProof, JSON.stringify({ ...proof, txoutproof: flipped.toString('hex') }));
  const changedRun = await n.cli('anchor', 'verify', files[1], changedProof);
  assert.equal(changedRun.code, 1, changedRun.stdout);
  assert.match(changedRun.stderr, /^error: .+\n$/);

  const ok = await n.cli('anchor', 'verify', files[1], proofFile);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout,
    new RegExp(`anchored in transaction ${record.txid}.*on the most-work chain, 1 confirmation deep`),
  );
  // No node: the offline check alone, said so.
  const offline = await runTally([
    '--network',
    'regtest',
    '--datadir',
    dir,
    '--rpcport',
    String(await freePort()),
    'anchor',
    'verify',
    files[1],
    proofFile,
  ]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /checked offline; no node answered/);

  // One byte of the file changed.
  const original = readFileSync(files[1]);
  const changed = Buffer.from(original);
  changed[3] ^= 1;
  writeFileSync(files[1], changed);
  const bad = await n.cli('anchor', 'verify', files[1], proofFile);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^error: .*proof does not hold: the file's SHA-256 is \w+, the proof is for \w+\n$/,
  );
  writeFileSync(files[1], original);
  // A path edited to fit: the root no longer matches the transaction.
  const edited = JSON.parse(proofRun.stdout) as { path: { hash: string }[] };
  edited.path[0].hash = '00'.repeat(32);
  writeFileSync(join(dir, 'edited.proof'), JSON.stringify(edited));
  const wrongPath = await cliHere(n, 'anchor', 'verify', files[1], join(dir, 'edited.proof'));
  assert.equal(wrongPath.code, 1);
  assert.match(wrongPath.stderr, /does not lead to the anchored root/);
  // A file that is not in the anchor gets no proof.
  const stranger = await cliHere(n, 'anchor', 'proof', record.txid, proofFile);
  assert.equal(stranger.code, 1);
  assert.match(stranger.stderr, /is not one of the files anchored by/);

  // The block taken off the best chain: offline the proof still holds, the node says no.
  const block = await n.rpc<string>('getbestblockhash');
  await n.rpc('invalidateblock', [block]);
  const off = await cliHere(n, 'anchor', 'verify', files[1], proofFile);
  assert.equal(off.code, 1);
  assert.match(off.stderr, /is not on the node's most-work chain/);
  await n.rpc('reconsiderblock', [block]);

  // One file: the OP_RETURN holds its SHA-256 itself.
  const single = join(dir, 'd.txt');
  writeFileSync(single, 'a single record');
  const one = await cliHere(n, '--json', 'anchor', single);
  assert.equal(one.code, 0, one.stderr);
  const oneTx = (JSON.parse(one.stdout) as { txid: string }).txid;
  const raw = await n.rpc<{ vout: { scriptPubKey: { hex: string } }[] }>('getrawtransaction', [oneTx, 1]);
  const data = Buffer.concat([
    Buffer.from('tally:anchor:1'),
    createHash('sha256').update('a single record').digest(),
  ]);
  assert.ok(raw.vout.some((o) => o.scriptPubKey.hex === '6a2e' + data.toString('hex')));
  await n.rpc('generatetoaddress', [2, await n.rpc<string>('getnewaddress')]);
  const oneProof = await cliHere(n, 'anchor', 'proof', oneTx, single);
  assert.equal(oneProof.code, 0, oneProof.stderr);
  writeFileSync(join(dir, 'd.proof'), oneProof.stdout);
  const oneOk = await cliHere(n, 'anchor', 'verify', single, join(dir, 'd.proof'));
  assert.equal(oneOk.code, 0, oneOk.stderr);
  assert.match(oneOk.stdout, /2 confirmations deep/);
});

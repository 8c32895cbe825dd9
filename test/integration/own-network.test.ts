// A network of one's own (issue 17) with real `tally` processes on 127.0.0.1: `tally network create`
// writes a file (regtest-easy proof of work so its genesis mines at once), three nodes join it from
// the file alone with one of them as the file's seed, mine, send from a wallet, split and come back
// to the most-work chain; a node given a file with another genesis says it is alone and refuses
// the peer it is pointed at.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getParams, type NetworkName } from '../../src/consensus/params.js';
import { loadNetworkFile } from '../../src/node/network-file.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { encodeAddress } from '../../src/primitives/address.js';
import {
  freePort,
  mine,
  runTally,
  startNode,
  stopAll,
  waitFor,
  waitSameTip,
  type TallyProcess,
} from './cluster.js';

const NAME = 'ledgertest';

describe("a network of one's own", { timeout: 240_000 }, () => {
  let dir: string;
  let file: string;
  let seedPort: number;
  let shown: { genesis: string; magic: string; seeds: string[]; name: string };
  let a: TallyProcess;
  let b: TallyProcess;
  let c: TallyProcess;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-net-'));
    file = join(dir, `${NAME}.json`);
  });
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`tally network create` writes one network that `tally network show` describes', async () => {
    seedPort = await freePort();
    const seed = `ws://127.0.0.1:${seedPort}`;
    const args = ['network', 'create', NAME, '--pow-limit', '207fffff', '--seed', seed];
    const created = await runTally([...args, '--out', file, '--threads', '1']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /genesis mined in/);
    // Public by design (handed to whoever joins), written whole: no temporary file left beside it.
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.deepEqual(
      readdirSync(dirname(file)).filter((f) => f.includes('.tmp-')),
      [],
    );
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { genesis: { message: string } }>;
    assert.deepEqual(Object.keys(json), [NAME]);
    assert.match(json[NAME].genesis.message, new RegExp(`^${NAME}: a Tally network created`));
    const again = await runTally([...args, '--out', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; choose --out FILE or add --force/);

    const show = await runTally(['network', 'show', file, '--json']);
    assert.equal(show.code, 0, show.stderr);
    shown = JSON.parse(show.stdout) as typeof shown;
    assert.equal(shown.name, NAME);
    assert.deepEqual(shown.seeds, [seed]);
    assert.match(shown.genesis, /^[0-9a-f]{64}$/);
    for (const n of ['main', 'test', 'regtest'] as NetworkName[])
      assert.notEqual(shown.magic, bytesToHex(getParams(n).magic));
    const human = await runTally(['network', 'show', file]);
    assert.match(human.stdout, new RegExp(`genesis: +${shown.genesis}`));
  });

  it('three nodes join from the file alone, mine and carry a wallet send', async () => {
    const chain = { file, name: NAME };
    // The seed listens on the port the file names; the others know nothing but the file.
    a = await startNode({ chain, args: ['--port', String(seedPort)] });
    [b, c] = await Promise.all([startNode({ chain }), startNode({ chain })]);
    await waitFor(
      async () => (await a.rpc<number>('getconnectioncount')) === 2,
      30_000,
      'B and C to dial the seed',
    );
    for (const n of [a, b, c]) assert.equal(await n.rpc('getblockhash', [0]), shown.genesis);
    assert.ok(existsSync(join(a.datadir, NAME, 'chainstate')), 'data in DATADIR/NAME');
    assert.equal((await a.rpc<{ chain: string }>('getblockchaininfo')).chain, NAME);

    const params = loadNetworkFile(file);
    await b.rpc('createwallet', { wallet_name: 'default' });
    await c.rpc('createwallet', { wallet_name: 'default' });
    const bAddr = await b.rpc<string>('getnewaddress');
    const cAddr = await c.rpc<string>('getnewaddress');
    assert.equal(bAddr, encodeAddress('pubkeyhash', await addrHash(b, bAddr), params.prefixes));
    await mine(a, 101, bAddr);
    await waitSameTip([a, b, c], 30_000);
    const sent = await b.cli('wallet', 'send', cAddr, '1.5');
    assert.equal(sent.code, 0, sent.stderr);
    const txid = sent.stdout.trim();
    await waitFor(
      async () => (await a.rpc<string[]>('getrawmempool')).includes(txid),
      20_000,
      'the send at A',
    );
    await mine(a, 1, bAddr);
    await waitFor(
      async () => (await c.rpc<{ mine: { trusted: number } }>('getbalances')).mine.trusted === 1.5,
      20_000,
      "C's wallet to hold 1.5",
    );
  });

  it('split in two, each side mines; joined again, all follow the most work', async () => {
    // C alone: no outbound peers, and its new port is known to nobody.
    await c.restart(['--connect=0']);
    const cAddr = await c.rpc<string>('getnewaddress');
    const lost = await mine(c, 2, cAddr);
    const kept = await mine(a, 4, cAddr);
    await waitSameTip([a, b], 20_000);
    await c.restart([]);
    const tip = await waitSameTip([a, b, c], 30_000);
    assert.equal(tip, kept[kept.length - 1]);
    const orphan = await c.rpc<{ confirmations: number }>('getblock', [lost[0]]);
    assert.equal(orphan.confirmations, -1);
  });

  it('a node with another genesis says it is alone and refuses the peer', async () => {
    const other = join(dir, 'other.json');
    const created = await runTally(['network', 'create', NAME, '--pow-limit', '207fffff', '--out', other]);
    assert.equal(created.code, 0, created.stderr);
    const d = await startNode({ chain: { file: other, name: NAME } });
    assert.match(d.output, new RegExp(`no peer connected on ${NAME}: no peer address is known`));
    assert.notEqual(await d.rpc('getblockhash', [0]), shown.genesis);
    const before = (await a.rpc<unknown[]>('getpeerinfo')).length;
    await d.rpc('addnode', [a.p2pUrl, 'onetry']);
    await waitFor(() => /peer is on another network/.test(a.output), 20_000, 'A to refuse D');
    // The refused socket may take a moment to close on both sides.
    await waitFor(
      async () =>
        (await d.rpc<number>('getconnectioncount')) === 0 &&
        (await a.rpc<unknown[]>('getpeerinfo')).length === before,
      5_000,
      'no link between A and D',
    );
  });
});

async function addrHash(n: TallyProcess, addr: string): Promise<Uint8Array> {
  const info = await n.rpc<{ scriptPubKey: string }>('getaddressinfo', [addr]);
  // P2PKH: OP_DUP OP_HASH160 <20> ... OP_EQUALVERIFY OP_CHECKSIG
  return Uint8Array.from(Buffer.from(info.scriptPubKey.slice(6, 46), 'hex'));
}

// A scripted Stratum v1 client (raw JSON lines over TCP) against a real `tally node --stratum`
// process. The shares are built here from the Stratum specification alone (coinbase from coinb1,
// the extra-nonces and coinb2; merkle root from the branch; prevhash with its 32-bit words
// swapped; version, nbits and ntime as big-endian hex), hashed with node:crypto, so the test does
// not lean on src/stratum to agree with itself. It covers subscribe, authorize, notify with
// clean_jobs on a new tip, accepted, duplicate, stale and low-difficulty shares, a share that is a
// block, vardiff raising a fast miner's difficulty, BIP310 version rolling, garbage and an endless
// line, and the share accounting in getstratuminfo and /metrics.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, waitFor } from './cluster.js';
import { parsePromText, sampleValue } from '../node/prom-text.js';

const ADDR = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('regtest').prefixes);

after(() => stopAll());

interface Msg {
  id: number | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: [number, string, unknown] | null;
}

class RawClient {
  readonly inbox: Msg[] = [];
  closed = false;
  private buf = '';
  private nextId = 1;
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.buf += d;
      const lines = this.buf.split('\n');
      this.buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) this.inbox.push(JSON.parse(l) as Msg);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
  }

  raw(text: string): void {
    this.socket.write(text);
  }

  async call(method: string, params: unknown[]): Promise<Msg> {
    const id = this.nextId++;
    this.raw(JSON.stringify({ id, method, params }) + '\n');
    return this.until(() => this.inbox.find((m) => m.id === id), `reply to ${method}`);
  }

  async until<T>(pick: () => T | undefined, what: string, ms = 20_000): Promise<T> {
    let got: T | undefined;
    await waitFor(() => (got = pick()) !== undefined, ms, what, 20);
    return got as T;
  }

  /** The newest notification of a method after index `from` of the inbox. */
  last(method: string, from = 0): Msg | undefined {
    return this.inbox.slice(from).findLast((m) => m.method === method);
  }

  close(): void {
    this.socket.destroy();
  }
}

const sha256d = (b: Buffer) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const le32 = (hex: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(parseInt(hex, 16) >>> 0);
  return b;
};

interface Job {
  id: string;
  prevhash: string;
  coinb1: string;
  coinb2: string;
  branch: string[];
  version: string;
  nbits: string;
  ntime: string;
  clean: boolean;
}

function job(m: Msg): Job {
  const p = m.params as [string, string, string, string, string[], string, string, string, boolean];
  return {
    id: p[0],
    prevhash: p[1],
    coinb1: p[2],
    coinb2: p[3],
    branch: p[4],
    version: p[5],
    nbits: p[6],
    ntime: p[7],
    clean: p[8],
  };
}

/** The block hash (as a number) of a share, built from the job as every Stratum miner builds it. */
function shareHash(j: Job, en1: string, en2: string, nonce: number, version = j.version): bigint {
  let root = sha256d(Buffer.from(j.coinb1 + en1 + en2 + j.coinb2, 'hex'));
  for (const b of j.branch) root = sha256d(Buffer.concat([root, Buffer.from(b, 'hex')]));
  const prev = Buffer.from(j.prevhash, 'hex');
  for (let i = 0; i < 32; i += 4) prev.subarray(i, i + 4).reverse();
  const n = Buffer.alloc(4);
  n.writeUInt32LE(nonce);
  const header = Buffer.concat([le32(version), prev, root, le32(j.ntime), le32(j.nbits), n]);
  return BigInt('0x' + Buffer.from(sha256d(header)).reverse().toString('hex'));
}

function compactTarget(nbits: string): bigint {
  const v = parseInt(nbits, 16);
  return BigInt(v & 0x007fffff) << BigInt(8 * ((v >>> 24) - 3));
}

const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** Difficulty 1's target (Bitcoin's 0x1d00ffff), the pools' unit of share difficulty. */
const DIFF1 = 0xffffn << 208n;
/** The share target at the starting difficulty 2.5e-10: DIFF1 / 2.5e-10 = DIFF1 * 4e9. */
const SHARE_TARGET = DIFF1 * 4_000_000_000n;

/**
 * The first nonce from `from` whose share is a block (meets the job's network target), or, with
 * `block` false, a share at the starting difficulty that is not a block.
 */
function findNonce(j: Job, en1: string, en2: string, block: boolean, from = 0): number {
  const target = compactTarget(j.nbits);
  for (let n = from; ; n++) {
    const h = shareHash(j, en1, en2, n);
    if (block ? h <= target : h > target && h <= SHARE_TARGET) return n;
  }
}

test(
  'a raw Stratum client against a real node: shares, blocks, stale, duplicate, low difficulty, vardiff, garbage',
  { timeout: 180_000 },
  async () => {
    // Share difficulty 2.5e-10 (about 2^-32): every hash meets the share target, so the test
    // chooses which shares are blocks (regtest's target is met by about half of all hashes).
    const node = await startNode({ args: ['--stratum', '0', '--stratumdifficulty', '2.5e-10', '--metrics'] });
    const port = Number(/stratum listening .*port=(\d+)/.exec(node.output)?.[1]);
    assert.ok(port > 0, node.output);

    const a = new RawClient(port);
    const sub = await a.call('mining.subscribe', ['raw-test/1.0']);
    const [subs, en1, en2size] = sub.result as [string[][], string, number];
    assert.deepEqual(
      subs.map((s) => s[0]),
      ['mining.set_difficulty', 'mining.notify'],
    );
    assert.match(en1, /^[0-9a-f]{8}$/);
    assert.equal(en2size, 4);
    const worker = `${ADDR}.rawA`;
    assert.equal((await a.call('mining.authorize', [worker, 'x'])).result, true);
    const diff = await a.until(() => a.last('mining.set_difficulty'), 'set_difficulty');
    assert.equal(diff.params?.[0], 2.5e-10);
    const j1 = job(await a.until(() => a.last('mining.notify'), 'first job'));
    assert.match(j1.prevhash, /^[0-9a-f]{64}$/);
    const height0 = await node.rpc<number>('getblockcount');

    // An accepted share that is not a block: the tip stays.
    const en2 = '00000001';
    const n1 = findNonce(j1, en1, en2, false);
    const submit = (j: Job, nonce: number, e2 = en2) =>
      a.call('mining.submit', [worker, j.id, e2, j.ntime, hex32(nonce)]);
    const ok = await submit(j1, n1);
    assert.equal(ok.result, true, JSON.stringify(ok));
    assert.equal(await node.rpc<number>('getblockcount'), height0);
    // The same share again: duplicate (22).
    const dup = await submit(j1, n1);
    assert.equal(dup.error?.[0], 22, JSON.stringify(dup));

    // Sixteen quick shares: vardiff raises the difficulty (at most 4x per look) and resends the job.
    const seen = a.inbox.length;
    let n = n1 + 1;
    for (let i = 0; i < 16; i++) {
      n = findNonce(j1, en1, en2, false, n);
      const r = await submit(j1, n++);
      assert.equal(r.result, true, JSON.stringify(r));
    }
    const raised = await a.until(() => a.last('mining.set_difficulty', seen), 'vardiff set_difficulty');
    assert.ok((raised.params?.[0] as number) > 2.5e-10, JSON.stringify(raised));
    await a.until(() => a.last('mining.notify', seen), 'job resent after the retarget');
    // A share found on that job before the retarget still counts at the job's old difficulty.
    n = findNonce(j1, en1, en2, false, n);
    const inFlight = await submit(j1, n++);
    assert.equal(inFlight.result, true, JSON.stringify(inFlight));

    // A share that meets the network target is a block: the tip moves, a clean job follows.
    const beforeBlock = a.inbox.length;
    const nb = findNonce(j1, en1, '00000002', true);
    const blk = await submit(j1, nb, '00000002');
    assert.equal(blk.result, true, JSON.stringify(blk));
    assert.equal(await node.rpc<number>('getblockcount'), height0 + 1);
    const tip = await node.rpc<string>('getbestblockhash');
    const block = await node.rpc<{ tx: { vout: { scriptPubKey: { address?: string } }[] }[] }>('getblock', [
      tip,
      2,
    ]);
    assert.equal(block.tx[0].vout[0].scriptPubKey.address, ADDR, 'the coinbase pays the worker');
    const j2 = job(
      await a.until(() => {
        const m = a.last('mining.notify', beforeBlock);
        return m && job(m).clean ? m : undefined;
      }, 'clean job on the new tip'),
    );
    assert.notEqual(j2.prevhash, j1.prevhash);
    // Work on the old tip is stale (21).
    const stale = await submit(j1, findNonce(j1, en1, '00000003', false), '00000003');
    assert.equal(stale.error?.[0], 21, JSON.stringify(stale));

    // A second miner asks for difficulty 1,000,000 before authorizing: a random share is low (23).
    const b = new RawClient(port);
    const en1b = ((await b.call('mining.subscribe', [])).result as [unknown, string])[1];
    assert.notEqual(en1b, en1, 'extranonce1 differs per connection');
    const cfg = await b.call('mining.configure', [
      ['version-rolling'],
      { 'version-rolling.mask': 'ffffffff' },
    ]);
    const mask = (cfg.result as Record<string, unknown>)['version-rolling.mask'] as string;
    assert.equal(mask, '1fffe000', 'BIP320 bits only');
    assert.equal((await b.call('mining.suggest_difficulty', [1e6])).result, true);
    assert.equal((await b.call('mining.authorize', [`${ADDR}.rawB`, 'x'])).result, true);
    const jb = job(await b.until(() => b.last('mining.notify'), 'job for b'));
    // (A share that meets the network target would be a block, accepted at any share difficulty.)
    const lowNonce = hex32(findNonce(jb, en1b, '00000000', false));
    const low = await b.call('mining.submit', [`${ADDR}.rawB`, jb.id, '00000000', jb.ntime, lowNonce]);
    assert.equal(low.error?.[0], 23, JSON.stringify(low));
    // Version bits outside the negotiated mask are refused.
    const badBits = await b.call('mining.submit', [
      `${ADDR}.rawB`,
      jb.id,
      '00000001',
      jb.ntime,
      '00000000',
      '00000001',
    ]);
    assert.equal(badBits.error?.[0], 20, JSON.stringify(badBits));

    // Garbage: an error reply each, then the connection is dropped; an endless line drops at once.
    const g = new RawClient(port);
    g.raw('this is not json\n');
    const e = await g.until(() => g.inbox.find((m) => m.error), 'error reply to garbage');
    assert.equal(e.error?.[0], 20);
    for (let i = 0; i < 25; i++) g.raw('[1,2,3]\n{"id":1,"method":7}\n');
    await g.until(() => (g.closed ? true : undefined), 'garbage client dropped');
    const long = new RawClient(port);
    long.raw('{"id":1,"method":"mining.subscribe","params":["' + 'a'.repeat(40_000));
    await long.until(() => (long.closed ? true : undefined), 'endless line dropped');

    // The node is up, and its accounting agrees with what the client saw.
    const info = await node.rpc<{
      workers: {
        name: string;
        accepted: number;
        duplicate: number;
        stale: number;
        lowdifficulty: number;
        blocks: number;
      }[];
    }>('getstratuminfo');
    const wa = info.workers.find((w) => w.name === worker);
    const wb = info.workers.find((w) => w.name === `${ADDR}.rawB`);
    assert.deepEqual(
      [wa?.accepted, wa?.duplicate, wa?.stale, wa?.blocks, wb?.lowdifficulty],
      [19, 1, 1, 1, 1],
      JSON.stringify(info),
    );
    const res = await fetch(`http://127.0.0.1:${node.rpcPort}/metrics`);
    const f = parsePromText(await res.text());
    assert.equal(sampleValue(f, 'tally_stratum_shares_total', { worker, result: 'accepted' }), 19);
    assert.equal(sampleValue(f, 'tally_stratum_shares_total', { worker, result: 'stale' }), 1);
    assert.equal(sampleValue(f, 'tally_stratum_blocks_total', { worker }), 1);
    assert.equal(sampleValue(f, 'tally_stratum_connections'), 2);
    a.close();
    b.close();
  },
);

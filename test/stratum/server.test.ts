// The Stratum server against a scripted client speaking raw JSON lines over TCP on 127.0.0.1:
// subscribe and authorize, notify (clean on a new tip), accepted, stale, duplicate and
// low-difficulty shares, vardiff raising the difficulty of a fast miner, BIP310 version rolling
// within BIP320's bits, a share meeting the network target submitted as a block whose merkle root
// and payout are right, and garbage answered with errors until the client is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { getParams } from '../../src/consensus/params.js';
import { compactToTarget, hashToBigInt } from '../../src/consensus/pow.js';
import type { BlockTemplate } from '../../src/mining/template.js';
import { addressToScript, encodeAddress } from '../../src/primitives/address.js';
import type { Block } from '../../src/primitives/block.js';
import { bytesToHex, equalBytes, hexToBytes } from '../../src/primitives/bytes.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { difficultyToTarget, parseNotify, shareHeader, u32ToHex } from '../../src/stratum/protocol.js';
import { StratumServer, type StratumOptions } from '../../src/stratum/server.js';

const params = getParams('regtest');
const ADDR = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), params.prefixes);
const NOW = 1_700_000_000;
const HARD = 0x1d00ffff; // difficulty 1: no share of these tests is a block
const EASY = 0x207fffff; // regtest: every other hash is a block

function dummyTx(i: number): Tx {
  const prev = new OutPoint(new Uint8Array(32).fill(i), i);
  return new Tx(
    1,
    [new TxIn(prev, new Uint8Array([i]), 0xffffffff)],
    [new TxOut(1000n, new Uint8Array([0x51]))],
    0,
  );
}

class FakeNode extends EventEmitter {
  height = 10;
  prev = new Uint8Array(32).fill(1);
  blocks: Block[] = [];
  constructor(
    public bits: number,
    public txs: Tx[] = [],
  ) {
    super();
  }
  port() {
    return {
      prefixes: params.prefixes,
      template: (): BlockTemplate => ({
        height: this.height,
        prevHash: this.prev,
        version: 4,
        bits: this.bits,
        target: compactToTarget(this.bits).target,
        curtime: NOW,
        mintime: NOW - 600,
        coinbaseValue: 50_0000_0000n,
        txs: this.txs.map((tx) => ({ tx, txid: tx.txidHex(), fee: 0n, sigops: 0, depends: [] })),
        sigops: 0,
        size: 0,
      }),
      submitBlock: (b: Block): Promise<string | null> => {
        this.blocks.push(b);
        return Promise.resolve(null);
      },
      onTip: (l: () => void) => {
        this.on('tip', l);
        return () => this.off('tip', l);
      },
      walletPayout: () => Promise.resolve(null),
    };
  }
  newTip(): void {
    this.height++;
    this.prev = new Uint8Array(32).fill(this.height);
    this.emit('tip');
  }
}

interface Msg {
  id: number | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: [number, string, unknown] | null;
}

class Client {
  readonly socket: Socket;
  private buf = '';
  private nextId = 1;
  readonly inbox: Msg[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.buf += d;
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      for (const l of lines) if (l) this.inbox.push(JSON.parse(l) as Msg);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until<T>(pick: () => T | undefined, what: string, ms = 5000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  raw(text: string): void {
    this.socket.write(text);
  }
  async call(method: string, params: unknown[]): Promise<Msg> {
    const id = this.nextId++;
    this.raw(JSON.stringify({ id, method, params }) + '\n');
    return this.until(() => this.inbox.find((m) => m.id === id), `${method} reply`);
  }
  /** The latest notification of `method` after index `from` of the inbox. */
  async note(method: string, from = 0): Promise<Msg> {
    return this.until(() => this.inbox.slice(from).findLast((m) => m.method === method), method);
  }
  close(): void {
    this.socket.destroy();
  }
}

async function withServer(
  node: FakeNode,
  opts: Partial<StratumOptions>,
  body: (port: number, server: StratumServer) => Promise<void>,
): Promise<void> {
  const server = new StratumServer(node.port(), { port: 0, now: () => NOW, ...opts });
  await server.start();
  try {
    await body(server.port, server);
  } finally {
    await server.stop();
  }
}

async function ready(c: Client, user = ADDR): Promise<{ en1: Uint8Array }> {
  const sub = await c.call('mining.subscribe', ['test/1']);
  const [, en1hex, size] = sub.result as [unknown, string, number];
  assert.equal(size, 4);
  assert.match(en1hex, /^[0-9a-f]{8}$/);
  const auth = await c.call('mining.authorize', [user, 'x']);
  assert.equal(auth.result, true);
  await c.note('mining.notify');
  return { en1: hexToBytes(en1hex) };
}

/** Nonces from `from` whose share hash is (meets=true) or is not within `target`. */
function findNonce(
  job: ReturnType<typeof parseNotify>,
  en1: Uint8Array,
  en2: Uint8Array,
  target: bigint,
  meets: boolean,
  version = job.version,
  from = 0,
): number {
  for (let n = from; ; n++) {
    const { header } = shareHeader(job, en1, en2, job.time, n, version);
    if (hashToBigInt(header.hash()) <= target === meets) return n;
  }
}

const submitParams = (job: { jobId: string; time: number }, en2: Uint8Array, nonce: number, user = ADDR) => [
  user,
  job.jobId,
  bytesToHex(en2),
  u32ToHex(job.time),
  u32ToHex(nonce),
];

test('stratum: subscribe, authorize, shares accepted, duplicate, low difficulty, stale after a new tip', async () => {
  const node = new FakeNode(HARD);
  await withServer(node, {}, async (port, server) => {
    const c = new Client(port);
    // Authorize before subscribe is refused with "not subscribed".
    const early = await c.call('mining.authorize', [ADDR, 'x']);
    assert.equal(early.error?.[0], 25);
    const { en1 } = await ready(c);
    const diff = (await c.note('mining.set_difficulty')).params![0] as number;
    assert.equal(diff, 0.001);
    // Share difficulty 2^-28: one hash in 16 qualifies.
    assert.equal((await c.call('mining.suggest_difficulty', [2 ** -28])).result, true);
    const target = difficultyToTarget(2 ** -28);
    const job = parseNotify((await c.note('mining.notify')).params!);
    assert.equal(job.clean, true);
    assert.ok(equalBytes(job.prevHash, node.prev));
    const en2 = hexToBytes('00000001');
    const good = findNonce(job, en1, en2, target, true);
    assert.deepEqual((await c.call('mining.submit', submitParams(job, en2, good))).result, true);
    assert.equal((await c.call('mining.submit', submitParams(job, en2, good))).error?.[0], 22);
    const low = findNonce(job, en1, en2, target, false);
    assert.equal((await c.call('mining.submit', submitParams(job, en2, low))).error?.[0], 23);
    assert.equal(
      (await c.call('mining.submit', submitParams({ ...job, jobId: 'nope' }, en2, good))).error?.[0],
      21,
    );
    assert.equal(
      (await c.call('mining.submit', submitParams(job, en2, good, 'someone-else'))).error?.[0],
      24,
    );
    const badTime = submitParams({ ...job, time: NOW + 100_000 }, en2, good);
    assert.equal((await c.call('mining.submit', badTime)).error?.[0], 20);

    // A new tip: a clean job on the new prevhash; a share of the old job is stale.
    const mark = c.inbox.length;
    node.newTip();
    const next = parseNotify((await c.note('mining.notify', mark)).params!);
    assert.equal(next.clean, true);
    assert.ok(equalBytes(next.prevHash, node.prev));
    const again = findNonce(job, en1, en2, target, true, job.version, good + 1);
    assert.equal((await c.call('mining.submit', submitParams(job, en2, again))).error?.[0], 21);
    const fresh = findNonce(next, en1, en2, target, true);
    assert.equal((await c.call('mining.submit', submitParams(next, en2, fresh))).result, true);

    const info = server.info() as { connections: number; workers: Record<string, number | string>[] };
    assert.equal(info.connections, 1);
    const w = info.workers.find((x) => x.name === ADDR)!;
    assert.deepEqual(
      [w.accepted, w.duplicate, w.lowdifficulty, w.stale, w.rejected, w.blocks],
      [2, 1, 1, 2, 1, 0],
    );
    assert.ok((w.hashrate as number) > 0);
    assert.equal(node.blocks.length, 0);
    c.close();
  });
});

test('stratum: vardiff raises the difficulty of a miner sending shares faster than one per 5 s', async () => {
  const node = new FakeNode(HARD);
  await withServer(node, { startDifficulty: 2 ** -28, retargetSeconds: 60 }, async (port) => {
    const c = new Client(port);
    const { en1 } = await ready(c);
    const job = parseNotify((await c.note('mining.notify')).params!);
    const target = difficultyToTarget(2 ** -28);
    const mark = c.inbox.length;
    let n = 0;
    // 16 shares in well under a minute: vardiff looks early and multiplies by its cap of 4.
    for (let i = 0; i < 16; i++) {
      n = findNonce(job, en1, new Uint8Array(4), target, true, job.version, n) + 1;
      const r = await c.call('mining.submit', submitParams(job, new Uint8Array(4), n - 1));
      assert.equal(r.result, true, JSON.stringify(r));
    }
    const set = await c.note('mining.set_difficulty', mark);
    assert.equal(set.params![0], 2 ** -26);
    // The job is sent again so the miner moves to the new difficulty at once.
    const renotify = await c.note('mining.notify', mark);
    assert.equal(renotify.params![8], false);
    c.close();
  });
});

test('stratum: vardiff lowers the difficulty of a miner that sends no share in its window', async () => {
  const node = new FakeNode(HARD);
  await withServer(node, { startDifficulty: 1, retargetSeconds: 1 }, async (port) => {
    const c = new Client(port);
    await ready(c);
    const mark = c.inbox.length;
    const set = await c.note('mining.set_difficulty', mark);
    const d = set.params![0] as number;
    assert.ok(d < 1 && d >= 0.25, String(d));
    c.close();
  });
});

test('stratum: version rolling (BIP310) only within the BIP320 bits', async () => {
  const node = new FakeNode(HARD);
  await withServer(node, {}, async (port) => {
    const c = new Client(port);
    const conf = await c.call('mining.configure', [
      ['version-rolling', 'minimum-difficulty'],
      { 'version-rolling.mask': 'ffffffff', 'version-rolling.min-bit-count': 2 },
    ]);
    assert.deepEqual(conf.result, {
      'version-rolling': true,
      'version-rolling.mask': '1fffe000',
      'minimum-difficulty': false,
    });
    const { en1 } = await ready(c);
    await c.call('mining.suggest_difficulty', [2 ** -28]);
    const job = parseNotify((await c.note('mining.notify')).params!);
    const bits = 0x00006000;
    const target = difficultyToTarget(2 ** -28);
    const n = findNonce(job, en1, new Uint8Array(4), target, true, job.version | bits);
    const ok = await c.call('mining.submit', [...submitParams(job, new Uint8Array(4), n), u32ToHex(bits)]);
    assert.equal(ok.result, true);
    const outside = await c.call('mining.submit', [...submitParams(job, new Uint8Array(4), n), '20000000']);
    assert.equal(outside.error?.[0], 20);
    c.close();
  });
});

test('stratum: a share meeting the network target is submitted as a block with the right merkle root and payout', async () => {
  const node = new FakeNode(EASY, [dummyTx(1), dummyTx(2), dummyTx(3)]);
  await withServer(node, {}, async (port, server) => {
    const c = new Client(port);
    const { en1 } = await ready(c, `${ADDR}.rig1`);
    const job = parseNotify((await c.note('mining.notify')).params!);
    assert.equal(job.branch.length, 2);
    const en2 = hexToBytes('0000abcd');
    const n = findNonce(job, en1, en2, compactToTarget(EASY).target, true);
    const r = await c.call('mining.submit', submitParams(job, en2, n, `${ADDR}.rig1`));
    assert.equal(r.result, true);
    assert.equal(node.blocks.length, 1);
    const block = node.blocks[0];
    assert.ok(equalBytes(block.merkle().root, block.header.merkleRoot));
    assert.equal(block.txs.length, 4);
    assert.ok(equalBytes(block.txs[0].outputs[0].scriptPubKey, addressToScript(ADDR, params.prefixes)));
    assert.equal(block.header.nonce, n);
    const w = (server.info() as { workers: { name: string; blocks: number }[] }).workers[0];
    assert.deepEqual([w.name, w.blocks], [`${ADDR}.rig1`, 1]);
    c.close();
  });
});

test('stratum: garbage gets error replies, then the client is dropped; an endless line or a flood drops it at once', async () => {
  const node = new FakeNode(HARD);
  await withServer(node, {}, async (port) => {
    const c = new Client(port);
    c.raw('this is not json\n');
    const e = await c.until(() => c.inbox.find((m) => m.error), 'error reply');
    assert.equal(e.id, null);
    assert.equal(e.error?.[0], 20);
    const u = await c.call('mining.nonsense', []);
    assert.match(u.error![1], /unknown method/);
    for (let i = 0; i < 25; i++) c.raw('[1,2,3]\n{"id":1,"method":7}\n');
    await c.until(() => (c.closed ? true : undefined), 'drop');

    const d = new Client(port);
    d.raw('{"id":1,"method":"mining.subscribe","params":["' + 'a'.repeat(20_000));
    await d.until(() => (d.closed ? true : undefined), 'drop on a long line');
    // A burst of 200 requests at once is more than a miner ever has in flight.
    const f = new Client(port);
    f.raw('{"id":1,"method":"mining.subscribe","params":[]}\n'.repeat(200));
    await f.until(() => (f.closed ? true : undefined), 'drop on a flood');
    // A well-behaved client still gets served.
    const ok = new Client(port);
    await ready(ok);
    ok.close();
  });
});

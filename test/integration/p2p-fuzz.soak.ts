// Soak (issue 11, `npm run soak -- p2p-fuzz`): for SOAK_SECONDS (default 120) many raw connections
// send random, truncated, bit-flipped, oversized and valid-looking messages in random order (some
// before the handshake, some never reading, some frames not WebSocket at all) to a `tally node` A,
// reconnecting whenever A drops them, while an honest node B mines a block every second or two
// and A follows it. A must never exit, its RSS must stay within RSS_BOUND_MB of its start and must
// not grow with the connections once they are all open (no leak), and at the end A holds B's
// chain. SOAK_SEED replays a run (the seed is printed).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { InvType, MAX_MESSAGE, encodeMessage, type Message } from '../../src/p2p/messages.js';
import { RECEIVE_PAUSE_BYTES, SEND_PAUSE_BYTES } from '../../src/p2p/peer.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { versionMsg } from '../p2p/helpers.js';
import { mine, stopAll, waitSameTip } from './cluster.js';
import { startTarget } from './hostile-target.js';
import { RawPeer, alive, rssMB } from './raw-peer.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 24);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
/**
 * Peak RSS growth allowed over the run: what the concurrent abusive peers may each make A hold
 * (Core's bounds: a 5 MB receive buffer, -maxreceivebuffer, and a 1 MB send buffer,
 * -maxsendbuffer; beside them the one message being assembled, up to MAX_MESSAGE) plus 64 MB for
 * A's own heap and the allocator. Measured (seed 568035, 7 Dec): the growth is reached within the
 * first seconds (external memory 110-200 MB, heap 30-45 MB) and stays flat over 87,000 connections.
 */
const RSS_BOUND_MB = Number(
  process.env.SOAK_RSS_MB ??
    (CONNECTIONS * (RECEIVE_PAUSE_BYTES + MAX_MESSAGE + SEND_PAUSE_BYTES)) / 1e6 + 64,
);
/** RSS growth allowed from the end of the run's first quarter to its end: a leak grows with the
 * connections made (tens of thousands), bounded buffers do not. */
const LEAK_BOUND_MB = 64;
const params = getParams('regtest');
const PAY = encodeAddress('pubkeyhash', new Uint8Array(20).fill(3), params.prefixes);

/** mulberry32: a small seeded generator, so a failing run can be replayed with SOAK_SEED. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = int(256);
  return out;
}
const hash = (): Uint8Array => bytes(32);

function randomTx(): Tx {
  const ins = Array.from(
    { length: 1 + int(3) },
    () => new TxIn(new OutPoint(hash(), int(4)), bytes(int(120))),
  );
  const outs = Array.from({ length: 1 + int(3) }, () => new TxOut(BigInt(int(1e9)), bytes(int(40))));
  return new Tx(1, ins, outs, 0);
}

function randomHeader(prev = hash()): BlockHeader {
  return new BlockHeader(4, prev, hash(), Math.floor(Date.now() / 1000), params.powLimitBits, int(2 ** 31));
}

/** A message that decodes (its content is nonsense to the node). */
function validLooking(known: Uint8Array[]): Message {
  const inv = () =>
    Array.from({ length: 1 + int(rand() < 0.1 ? 5_000 : 20) }, () => ({
      type: pick([InvType.TX, InvType.BLOCK, 7]),
      hash: known.length && rand() < 0.3 ? pick(known) : hash(),
    }));
  switch (int(13)) {
    case 0:
      return { command: 'inv', items: inv() };
    case 1:
      return { command: 'getdata', items: inv() };
    case 2:
      return { command: 'notfound', items: inv() };
    case 3:
      return {
        command: 'getheaders',
        version: 70016,
        locator: Array.from({ length: int(10) }, () => (known.length ? pick(known) : hash())),
        stop: new Uint8Array(32),
      };
    case 4:
      return { command: 'headers', headers: Array.from({ length: 1 + int(50) }, () => randomHeader()) };
    case 5:
      return {
        command: 'addr',
        addrs: Array.from({ length: 1 + int(20) }, () => ({
          time: Math.floor(Date.now() / 1000),
          services: 1n,
          host: `${1 + int(223)}.${int(256)}.${int(256)}.${int(256)}`,
          port: 18444,
        })),
      };
    case 6:
      return { command: 'tx', tx: randomTx() };
    case 7:
      return { command: 'block', block: new Block(randomHeader(), [randomTx()]) };
    case 8:
      return { command: 'ping', nonce: BigInt(int(1e9)) };
    case 9:
      return { command: 'pong', nonce: BigInt(int(1e9)) };
    case 10:
      return { command: pick(['getaddr', 'mempool', 'sendheaders', 'verack'] as const) };
    case 11:
      return versionMsg(params.magic, { nonce: BigInt(int(1e9)), startHeight: int(1000) });
    default:
      return { command: 'ping', nonce: 0n };
  }
}

/** One abusive action on a connection. */
function act(p: RawPeer, known: Uint8Array[], counts: Map<string, number>): void {
  const r = rand();
  const note = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  if (r < 0.4) {
    note('valid-looking');
    p.send(validLooking(known));
  } else if (r < 0.55) {
    note('truncated');
    const m = encodeMessage(validLooking(known));
    p.sendFrame(m.subarray(0, int(m.length)));
  } else if (r < 0.7) {
    note('bit-flipped');
    const m = encodeMessage(validLooking(known)).slice();
    for (let i = 0; i < 1 + int(4); i++) m[int(m.length)] ^= 1 << int(8);
    p.sendFrame(m);
  } else if (r < 0.8) {
    note('random');
    p.sendFrame(bytes(int(2_000)));
  } else if (r < 0.85) {
    note('unknown command');
    p.sendCommand(`x${int(1e6)}`, bytes(int(500)));
  } else if (r < 0.88) {
    note('text');
    p.sendText('garbage');
  } else if (r < 0.9) {
    note('oversized');
    p.sendOversized(MAX_MESSAGE + 1 + int(1_000));
  } else if (r < 0.92) {
    note('not a frame');
    p.sendSocketBytes(bytes(1 + int(64)));
  } else if (r < 0.95) {
    note('stop reading');
    p.stopReading();
  } else {
    note('close');
    p.terminate();
  }
}

describe('p2p fuzz soak', { timeout: (SECONDS + 300) * 1000 }, () => {
  after(stopAll);

  it(`${CONNECTIONS} abusive connections for ${SECONDS} s while an honest peer mines`, async (t) => {
    t.diagnostic(`SOAK_SEED=${SEED}`);
    const target = await startTarget({ pay: PAY });
    const { a, b } = target;
    // The honest miner is B; A must follow it. Blocks B has are what the fuzzers ask A for.
    const known: Uint8Array[] = [params.genesis.hash()];
    const counts = new Map<string, number>();
    const deadline = Date.now() + SECONDS * 1000;
    let peak = target.rss0;
    let connections = 0;
    let failedConnects = 0;

    const miner = (async () => {
      while (Date.now() < deadline) {
        const [h] = await mine(b, 1, PAY);
        known.push(Uint8Array.from(Buffer.from(h, 'hex').reverse()));
        await new Promise((r) => setTimeout(r, 1_000 + int(1_000)));
      }
    })();
    /** RSS once a quarter of the run has passed: every fuzzer's connection is open by then. */
    let quarter = null as number | null;
    const sampler = setInterval(() => {
      if (!alive(a.pid)) return;
      const rss = rssMB(a.pid);
      peak = Math.max(peak, rss);
      if (quarter === null && Date.now() > deadline - SECONDS * 750) quarter = rss;
    }, 250);

    const fuzzer = async (): Promise<void> => {
      while (Date.now() < deadline && alive(a.pid)) {
        let p: RawPeer;
        try {
          connections++;
          p = rand() < 0.8 ? await RawPeer.handshake(a.p2pUrl) : await RawPeer.connect(a.p2pUrl);
        } catch {
          failedConnects++;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        p.answerPings = rand() < 0.5;
        const steps = 1 + int(200);
        for (let i = 0; i < steps && p.open && Date.now() < deadline; i++) {
          act(p, known, counts);
          await new Promise((r) => setTimeout(r, int(20)));
        }
        p.terminate();
      }
    };
    await Promise.all([miner, ...Array.from({ length: CONNECTIONS }, fuzzer)]);
    clearInterval(sampler);

    assert.ok(alive(a.pid), `A exited during the soak (seed ${SEED}):\n${a.output.slice(-3000)}`);
    assert.doesNotMatch(a.output, /FATAL/, 'A logged a fatal error');
    const end = rssMB(a.pid);
    const tip = await waitSameTip([a, b], 60_000);
    t.diagnostic(
      `${connections} connections (${failedConnects} refused or failed), actions ${JSON.stringify(
        Object.fromEntries(counts),
      )}; RSS ${target.rss0.toFixed(0)} MB at start, ${quarter?.toFixed(0)} MB after a quarter, ` +
        `peak ${peak.toFixed(0)} MB, end ${end.toFixed(0)} MB (bound: ${RSS_BOUND_MB.toFixed(0)} MB growth); ` +
        `both at ${tip} (height ${await a.rpc<number>('getblockcount')})`,
    );
    assert.ok(peak - target.rss0 < RSS_BOUND_MB, `RSS peak ${peak.toFixed(0)} MB (seed ${SEED})`);
    assert.ok(quarter !== null, 'RSS sampled after a quarter of the run');
    assert.ok(
      end - quarter < LEAK_BOUND_MB,
      `RSS grew from ${quarter.toFixed(0)} to ${end.toFixed(0)} MB after the first quarter (seed ${SEED})`,
    );
    await target.fine('the soak', RSS_BOUND_MB);
  });
});

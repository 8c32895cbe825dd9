// Low-work header spam against a real `tally node` (issue 11, Core's p2p_headers_sync_with_minchainwork
// and p2p_dos_header_tree): with minimumchainwork set, a raw peer sends 20,500 valid headers forking
// from genesis at the easiest bits. Pre-sync counts them and stores none: getchaintips is unchanged,
// RSS stays within its bound, the peer is disconnected and not banned. A peer whose chain has the
// work is then synced through pre-sync and redownload to the last header.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { blockWork, checkProofOfWork } from '../../src/consensus/pow.js';
import { MAX_HEADERS } from '../../src/p2p/messages.js';
import { BlockHeader } from '../../src/primitives/block.js';
import { equalBytes } from '../../src/primitives/bytes.js';
import { startNode, stopAll, type TallyProcess } from './cluster.js';
import { RawPeer, alive, rssMB } from './raw-peer.js';

const params = getParams('regtest');
/** Headers a chain needs before the node stores it (set through minimumchainwork). MINB and SPAM
 * (the attack's length) resize the run for measurements, e.g. SPAM=100500 MINB=200000. */
const MIN_BLOCKS = BigInt(process.env.MINB ?? 25_000);

/** RSS the node may gain from 20,500 low-work headers (the headers alone are 1.6 MB on the wire). */
const RSS_GROWTH_MB = 50;

/** `n` valid regtest headers after genesis, one second apart; `tag` makes chains differ. */
function headerChain(n: number, tag: number): BlockHeader[] {
  const out: BlockHeader[] = [];
  let prev = params.genesis.header;
  const root = new Uint8Array(32).fill(tag);
  for (let i = 0; i < n; i++) {
    for (let nonce = 0; ; nonce++) {
      const h = new BlockHeader(4, prev.hash(), root, prev.time + 1, params.powLimitBits, nonce);
      if (checkProofOfWork(h.hash(), h.bits, params)) {
        prev = h;
        break;
      }
    }
    out.push(prev);
  }
  return out;
}

/** Answers each getheaders from `chain`, after the first locator hash found in it. */
async function serveHeaders(peer: RawPeer, chain: BlockHeader[]): Promise<void> {
  let from = 0;
  for (;;) {
    const m = await peer.next('getheaders', 60_000, from);
    from = peer.received.indexOf(m) + 1;
    let start = 0;
    for (const h of m.locator) {
      const i = chain.findIndex((x) => equalBytes(x.hash(), h));
      if (i >= 0) {
        start = i + 1;
        break;
      }
    }
    peer.send({ command: 'headers', headers: chain.slice(start, start + MAX_HEADERS) });
  }
}

interface Tip {
  height: number;
  status: string;
}

describe('low-work headers against a tally node', { timeout: 240_000 }, () => {
  let a: TallyProcess;
  before(async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'tally-presync-'));
    const work = blockWork(params.powLimitBits) * (MIN_BLOCKS + 1n);
    writeFileSync(join(datadir, 'tally.conf'), `[regtest]\nminimumchainwork=${work.toString(16)}\n`);
    a = await startNode({ datadir });
  });
  after(stopAll);

  /** A raw peer sends `n` low-work headers, each batch answering the node's getheaders. */
  async function spam(n: number, tag: number): Promise<RawPeer> {
    const chain = headerChain(n, tag);
    const peer = await RawPeer.handshake(a.p2pUrl, { version: { startHeight: n } });
    // Each batch answers a getheaders, as pre-sync asks for the next one: the node holds one batch
    // at a time (a peer that floods unasked is bounded by the receive buffer instead).
    let asked = 0;
    for (let i = 0; i < chain.length; i += MAX_HEADERS) {
      const m = await peer.next('getheaders', 30_000, asked);
      asked = peer.received.indexOf(m) + 1;
      peer.send({ command: 'headers', headers: chain.slice(i, i + MAX_HEADERS) });
    }
    await peer.waitClosed(60_000);
    return peer;
  }

  it('20,500 low-work headers from genesis: none stored, RSS bounded, the sender dropped unbanned', async (t) => {
    const tips0 = await a.rpc<Tip[]>('getchaintips');
    // A first, shorter run lets V8 grow its young generation (tens of MB for any burst of
    // allocation), so the bound below measures what the headers themselves leave behind.
    await spam(4_500, 1);
    const rss0 = rssMB(a.pid);
    const n = Number(process.env.SPAM ?? 20_500);
    await spam(n, 2);
    assert.ok(alive(a.pid), a.output.slice(-2000));
    assert.deepEqual(await a.rpc<Tip[]>('getchaintips'), tips0);
    const info = await a.rpc<{ headers: number }>('getblockchaininfo');
    assert.equal(info.headers, 0);
    assert.deepEqual(await a.rpc('listbanned'), []);
    const rss = rssMB(a.pid);
    t.diagnostic(`RSS ${rss0.toFixed(1)} -> ${rss.toFixed(1)} MB over ${n} low-work headers`);
    assert.ok(rss - rss0 < RSS_GROWTH_MB, `RSS ${rss0.toFixed(0)} -> ${rss.toFixed(0)} MB`);
  });

  it('a chain with the work is pre-synced, fetched again and stored to its last header', async () => {
    const good = headerChain(Number(MIN_BLOCKS) + 500, 2);
    const peer = await RawPeer.handshake(a.p2pUrl, { version: { startHeight: good.length } });
    void serveHeaders(peer, good).catch(() => {});
    const until = Date.now() + 120_000;
    let headers = 0;
    while (headers < good.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      headers = (await a.rpc<{ headers: number }>('getblockchaininfo')).headers;
    }
    assert.equal(headers, good.length);
    const tips = await a.rpc<Tip[]>('getchaintips');
    assert.ok(tips.some((t) => t.height === good.length && t.status === 'headers-only'));
    assert.equal(peer.closed, false);
    peer.terminate();
  });
});

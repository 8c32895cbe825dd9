// Hostile connections and address gossip against a real `tally node` (issue 11), as Core's
// p2p_eviction and p2p_addr_relay/p2p_addrv2_relay: 117 connections from one address do not keep
// an honest newcomer out, `addr` naming loopback, private and link-local addresses makes the node
// dial none of them, and 30 `addr` messages of 1,000 addresses leave peers.json small (rate
// limited as Core: 0.1 address/s per peer, 1,000 after our own getaddr). After each: the node is
// up, its RSS within a stated bound, and an honest tally node follows its chain.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { MAX_ADDR, type TimedNetAddr } from '../../src/p2p/messages.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, waitFor, waitSameTip, type TallyProcess } from './cluster.js';
import { startTarget, type Target } from './hostile-target.js';
import { RawPeer, alive, rssMB } from './raw-peer.js';

const NOBODY = encodeAddress('pubkeyhash', new Uint8Array(20).fill(5), getParams('regtest').prefixes);
/** Core's default inbound slots: 125 connections less 8 outbound. */
const INBOUND_SLOTS = 117;
/** RSS 120 connections may add (each peer's known-inventory filter alone is ~250 kB, as Core's). */
const RSS_GROWTH_MB = 150;

interface PeerJson {
  subver: string;
  inbound: boolean;
  addr_processed: number;
  addr_rate_limited: number;
}

function addr(host: string, port: number): TimedNetAddr {
  return { time: Math.floor(Date.now() / 1000), services: 1n, host, port };
}

/** The address book file of a node, as the list of URLs it holds ([] before the first save). */
function bookUrls(n: TallyProcess): string[] {
  const file = join(n.networkDir, 'peers.json');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/"url":\s*"([^"]+)"/g)].map((m) => m[1]);
}

/** A TCP listener on 127.0.0.1 that counts the connections made to it (a dial we must not see). */
async function tripwire(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, hits: () => hits };
}

describe('hostile connections and addresses against a tally node', { timeout: 240_000 }, () => {
  let a: TallyProcess;
  let target: Target;

  before(async () => {
    // A dials from its address book (no --connect): what gossip puts there could be dialled.
    target = await startTarget({ pay: NOBODY });
    a = target.a;
  });
  after(stopAll);

  const nodeIsFine = (what: string): Promise<void> => target.fine(what, RSS_GROWTH_MB);

  it('addr naming 127.0.0.1, 10.0.0.1 and 169.254.169.254: processed, stored nowhere, never dialled', async () => {
    const wire = await tripwire();
    const listener = await RawPeer.listen({ version: { userAgent: '/addr-gossip/' } });
    try {
      // A peer A dialled itself (addnode onetry): its addr answers our getaddr, so A takes up to
      // 1,000 addresses from it at once (Core's token bucket after a getaddr).
      await a.rpc('addnode', [listener.url, 'onetry']);
      const p = await listener.accept();
      await p.next('getaddr');
      const local = [
        addr('127.0.0.1', wire.port),
        addr('10.0.0.1', 18444),
        addr('169.254.169.254', 80),
        addr('192.168.1.1', 18444),
        addr('::1', wire.port),
      ];
      p.send({ command: 'addr', addrs: local });
      await p.roundTrip();
      const info = (await a.rpc<PeerJson[]>('getpeerinfo')).find((x) => x.subver === '/addr-gossip/');
      assert.equal(info?.addr_processed, local.length, 'the addresses were read, not rate-limited');
      // Several maintenance ticks (1 s each) dial from the book; none of these may be dialled.
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal(wire.hits(), 0, 'A dialled a loopback address learned from gossip');
      const book = bookUrls(a).join(' ');
      for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '192.168.1.1', '[::1]'])
        assert.ok(!book.includes(`//${host}:`), `${host} stored in peers.json: ${book}`);
      p.terminate();
    } finally {
      await listener.close();
      await new Promise((r) => wire.server.close(r));
    }
    await nodeIsFine('addr with unroutable addresses');
  });

  it(`${INBOUND_SLOTS + 3} connections from one address: an honest newcomer still gets in (eviction)`, async (t) => {
    const attackers: RawPeer[] = [];
    for (let i = 0; i < INBOUND_SLOTS + 3; i += 20) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(20, INBOUND_SLOTS + 3 - i) }, () =>
          RawPeer.handshake(a.p2pUrl, { version: { userAgent: '/squatter/' } }),
        ),
      );
      for (const r of batch) if (r.status === 'fulfilled') attackers.push(r.value);
    }
    const peers = await a.rpc<PeerJson[]>('getpeerinfo');
    const inbound = peers.filter((p) => p.inbound).length;
    assert.ok(inbound <= INBOUND_SLOTS, `${inbound} inbound connections, over ${INBOUND_SLOTS}`);
    assert.ok(
      peers.some((p) => p.subver.startsWith('/Tally')),
      'the honest peer that was there first kept its slot',
    );
    const c = await startNode({ args: ['--connect', a.p2pUrl] });
    await waitSameTip([a, c], 30_000);
    // Evicted: those closed during their handshake (never returned) and those closed since.
    const evicted = INBOUND_SLOTS + 3 - attackers.length + attackers.filter((p) => p.closed).length;
    t.diagnostic(
      `${INBOUND_SLOTS + 3} squatters tried, ${evicted} evicted; ` +
        `RSS ${target.rss0.toFixed(0)} -> ${rssMB(a.pid).toFixed(0)} MB`,
    );
    assert.ok(evicted >= 3, `only ${evicted} squatters evicted`);
    for (const p of attackers) p.terminate();
    await nodeIsFine('filled inbound slots');
    await waitSameTip([a, c], 30_000);
    await c.stop();
  });

  it(`30 addr messages of ${MAX_ADDR} addresses leave peers.json small (rate limited as Core)`, async () => {
    const listener = await RawPeer.listen({ version: { userAgent: '/addr-flood/' } });
    // A second node that dials nobody on its own (connect=0), so the public-looking addresses it
    // learns are never tried from a test.
    const d = await startNode({ args: ['--connect', '0'] });
    try {
      await d.rpc('addnode', [listener.url, 'onetry']);
      const p = await listener.accept();
      await p.next('getaddr');
      let n = 0;
      for (let m = 0; m < 30; m++) {
        const addrs: TimedNetAddr[] = [];
        // 20.0.0.0 upwards: public (routable) IPv4, a different address each time.
        for (let i = 0; i < MAX_ADDR; i++, n++)
          addrs.push(addr(`${20 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.1`, 18444));
        p.send({ command: 'addr', addrs });
      }
      await p.roundTrip();
      const info = (await d.rpc<PeerJson[]>('getpeerinfo')).find((x) => x.subver === '/addr-flood/');
      assert.ok(info, 'the flooding peer is still connected (addr floods are dropped, not punished)');
      assert.ok(info.addr_processed <= MAX_ADDR + 2, `${info.addr_processed} addresses processed`);
      assert.ok(info.addr_rate_limited >= 29 * MAX_ADDR - 2, `${info.addr_rate_limited} rate-limited`);
      // Saved on a maintenance tick (1 s); an address book of Core's tables keeps fewer than it
      // was given (one source group reaches 4,096 slots, some taken twice), so wait for a save.
      await waitFor(() => bookUrls(d).length >= 100, 10_000, 'peers.json to be saved');
      await new Promise((r) => setTimeout(r, 1_500));
      assert.ok(bookUrls(d).length <= info.addr_processed + 2, 'more addresses stored than processed');
      const size = statSync(join(d.networkDir, 'peers.json')).size;
      assert.ok(size < 300_000, `peers.json grew to ${size} bytes`);
      assert.ok(alive(d.pid));
      p.terminate();
    } finally {
      await listener.close();
      await d.stop();
    }
  });
});

// Address flooding against a real `tally node` (issue 11): a peer the node dials (so its getaddr
// opens the addr token bucket to 1,000, as Core's) and an inbound raw peer each send 30 addr
// messages of 1,000 routable addresses. The address book (Core's addrman tables) keeps at most
// the 4,096 slots one source group can reach, the rest is rate-limited, and peers.json stays under
// its bound (before the tables, the same flood grew it from 516 bytes to 3 MB).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE, decodeMessage, encodeMessage, type Message } from '../../src/p2p/messages.js';
import { versionMsg } from '../p2p/helpers.js';
import { startNode, stopAll, type TallyProcess } from './cluster.js';
import { REGTEST_MAGIC, RawPeer, alive } from './raw-peer.js';

/** One source group's share of the new table: 64 buckets of 64 (Core's). */
const ONE_SOURCE_SLOTS = 64 * 64;
/** peers.json after the flood: one source's 4,096 slots at ~150 bytes of JSON each. */
const PEERS_JSON_BOUND = 600_000;

/** 1,000 routable addresses spread over /16 groups (message m of a flood). */
function addrs(m: number): Extract<Message, { command: 'addr' }>['addrs'] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: 1000 }, (_, i) => {
    const n = m * 1000 + i;
    return { time: now, services: 1n, host: `${11 + (n % 200)}.${(n >> 8) & 255}.${n & 255}.1`, port: 8333 };
  });
}

describe('addr floods against a tally node', { timeout: 180_000 }, () => {
  let a: TallyProcess;
  let server: WebSocketServer;
  let dialled: Promise<WebSocket>;

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_MESSAGE });
    await new Promise<void>((r) => server.once('listening', () => r()));
    dialled = new Promise((resolve) => server.once('connection', (ws) => resolve(ws)));
    const port = (server.address() as { port: number }).port;
    a = await startNode({ args: ['--addnode', `ws://127.0.0.1:${port}`] });
  });
  after(async () => {
    await stopAll();
    server.close();
  });

  it('30 x 1,000 addresses from a dialled peer and an inbound one: the tables and peers.json stay bounded', async (t) => {
    // The node dials our server: answer its version, complete the handshake, wait for getaddr.
    const ws = await dialled;
    const seen: string[] = [];
    ws.on('message', (data: Buffer) => {
      const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.length));
      seen.push(m.command);
      if (m.command === 'version') {
        ws.send(encodeMessage(versionMsg(REGTEST_MAGIC, { userAgent: '/addr-flood/' })));
        ws.send(encodeMessage({ command: 'verack' }));
      }
      if (m.command === 'ping') ws.send(encodeMessage({ command: 'pong', nonce: m.nonce }));
    });
    const until = Date.now() + 30_000;
    while (!seen.includes('getaddr') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes('getaddr'), `the node asked for addresses (saw ${seen.join(' ')})`);
    for (let m = 0; m < 30; m++) ws.send(encodeMessage({ command: 'addr', addrs: addrs(m) }));

    const inbound = await RawPeer.handshake(a.p2pUrl);
    for (let m = 30; m < 60; m++) inbound.send({ command: 'addr', addrs: addrs(m) });
    await inbound.roundTrip();

    type Info = Record<string, { new: number; tried: number; total: number }>;
    let info = await a.rpc<Info>('getaddrmaninfo');
    const waitUntil = Date.now() + 30_000;
    while (info.ipv4.total < 500 && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 200));
      info = await a.rpc<Info>('getaddrmaninfo');
    }
    // The dialled peer's 1,000 tokens let its first message in (less slot collisions); the rest
    // of both floods is rate-limited (0.1 a second).
    assert.ok(info.ipv4.total >= 500 && info.ipv4.total <= 1_000 + 10, JSON.stringify(info.ipv4));
    assert.ok(info.ipv4.total <= 2 * ONE_SOURCE_SLOTS);
    const peers = await a.rpc<{ id: number; addr_rate_limited: number }[]>('getpeerinfo');
    assert.ok(peers.some((p) => p.addr_rate_limited >= 29_000));
    assert.ok(alive(a.pid));

    // Stopping saves the book: the file holds the tables and nothing else.
    const file = join(a.networkDir, 'peers.json');
    await a.stop();
    const size = statSync(file).size;
    t.diagnostic(
      `peers.json ${size} bytes holding ${info.all_networks.total} entries after 60,000 addresses`,
    );
    assert.ok(size < PEERS_JSON_BOUND, `${size} bytes`);
    inbound.terminate();
    ws.terminate();
  });
});

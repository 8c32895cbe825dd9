// Hostile messages against a real `tally node` (issue 11), as Core's p2p_invalid_messages and
// p2p_timeouts: bad magic, oversized frames, truncated and corrupted payloads, unknown commands,
// junk that is no WebSocket frame, silent connections, and a banned socket that sends an oversized
// frame. After each: the node is up, its RSS within a stated bound, an honest tally node still
// follows its chain, and the attacker ended as Core ends it (a local peer disconnected and not
// banned; a remote one discouraged; an unknown command ignored).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { MAX_HANDSHAKE_MESSAGE, MAX_INV, MAX_MESSAGE } from '../../src/p2p/messages.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { stopAll, type TallyProcess } from './cluster.js';
import { startTarget, type Target } from './hostile-target.js';
import { RawPeer, nonLoopbackAddress } from './raw-peer.js';
import { oversizedFrame, rawUpgrade } from '../p2p/helpers.js';

const NOBODY = encodeAddress('pubkeyhash', new Uint8Array(20).fill(9), getParams('regtest').prefixes);
/** RSS the node may gain over the whole file's attacks (Core's per-peer receive buffer is 5 MB). */
const RSS_GROWTH_MB = 100;
/** Seconds to complete the handshake (Core's -peertimeout, 60 by default). */
const PEER_TIMEOUT_S = 2;

interface PeerJson {
  subver: string;
  banscore?: number;
  inbound: boolean;
}

describe('hostile messages against a tally node', { timeout: 180_000 }, () => {
  let a: TallyProcess;
  let target: Target;
  const datadir = mkdtempSync(join(tmpdir(), 'tally-hostile-'));

  before(async () => {
    writeFileSync(join(datadir, 'tally.conf'), `[regtest]\npeertimeout=${PEER_TIMEOUT_S}\n`);
    target = await startTarget({ datadir, pay: NOBODY });
    a = target.a;
  });
  after(async () => {
    await stopAll();
    rmSync(datadir, { recursive: true, force: true });
  });

  /** The node is alive, stayed within its RSS bound, and B follows a new block. */
  const nodeIsFine = (what: string): Promise<void> => target.fine(what, RSS_GROWTH_MB);

  async function peersBy(agent: string): Promise<PeerJson[]> {
    return (await a.rpc<PeerJson[]>('getpeerinfo')).filter((p) => p.subver === agent);
  }

  async function assertNotBanned(): Promise<void> {
    assert.deepEqual(await a.rpc('listbanned'), []);
  }

  it('bad magic: another network is disconnected, not scored; a truncated version likewise', async () => {
    const other = await RawPeer.connect(a.p2pUrl, { magic: Uint8Array.of(1, 2, 3, 4) });
    other.sendVersion();
    await other.waitClosed();
    assert.equal(
      other.received.find((m) => m.command === 'verack'),
      undefined,
      'no verack for another network',
    );
    await assertNotBanned();
    // The same socket source may connect again at once: nothing was held against it.
    const again = await RawPeer.handshake(a.p2pUrl);
    await again.roundTrip();
    again.terminate();
    await nodeIsFine('a version with another magic');
  });

  /** Each case: what a handshaken peer sends that the node must treat as garbage (score 100). */
  const garbage: [string, (p: RawPeer) => void][] = [
    ['a truncated inv (two items announced, one sent)', (p) => p.sendCommand('inv', truncatedInv())],
    // Core's bad checksum: the payload damaged on the way. WebSockets carry no checksum (TCP's
    // and the frame's length do that job), so the damage shows as a payload that does not parse.
    ['a damaged tx payload (Core: bad checksum)', (p) => p.sendCommand('tx', new Uint8Array(100).fill(0xff))],
    ['a command not NUL-padded', (p) => p.sendFrame(commandBytes('ping\0x', 8))],
    ['a non-printable command', (p) => p.sendFrame(commandBytes('pi\x01g', 8))],
    ['a payload on verack', (p) => p.sendCommand('verack', Uint8Array.of(0))],
    ['a frame shorter than a command', (p) => p.sendFrame(Uint8Array.of(0x70, 0x69))],
    ['a text frame', (p) => p.sendText('hello')],
    [`an oversized frame (${MAX_MESSAGE + 1} bytes)`, (p) => p.sendOversized()],
    ['bytes that are no WebSocket frame', (p) => p.sendSocketBytes(new Uint8Array(64).fill(0xab))],
  ];

  for (const [what, send] of garbage) {
    it(`${what}: a local peer is disconnected, not banned, and may come back`, async () => {
      const p = await RawPeer.handshake(a.p2pUrl);
      send(p);
      await p.waitClosed(15_000);
      await assertNotBanned();
      const back = await RawPeer.handshake(a.p2pUrl);
      await back.roundTrip();
      back.terminate();
      await nodeIsFine(what);
    });
  }

  it('unknown commands are ignored at no cost; a list over its limit scores 20 and keeps the peer', async () => {
    const agent = '/unknown-and-long/';
    const p = await RawPeer.handshake(a.p2pUrl, { version: { userAgent: agent } });
    for (let i = 0; i < 20; i++) p.sendCommand(`junk${i}`, new Uint8Array(10_000).fill(i));
    await p.roundTrip();
    assert.equal((await peersBy(agent))[0]?.banscore, 0, 'unknown commands cost nothing');
    p.sendCommand('inv', oversizedInv());
    await p.roundTrip();
    assert.equal((await peersBy(agent))[0]?.banscore, 20, 'an inv over 50,000 items scores 20');
    assert.ok(!p.closed);
    p.terminate();
    await nodeIsFine('unknown commands and an over-long inv');
  });

  it(`before its version a frame may hold ${MAX_HANDSHAKE_MESSAGE} bytes: a 100 kB one is cut off unread, at once`, async () => {
    // The largest version there is (a 256-byte user agent, a 256-byte listen URL) gets through.
    const agent = `/${'v'.repeat(254)}/`;
    const big = await RawPeer.handshake(a.p2pUrl, {
      version: { userAgent: agent, wsurl: `ws://127.0.0.1:1/${'u'.repeat(256 - 17)}` },
    });
    await big.roundTrip();
    assert.equal((await peersBy(agent)).length, 1);
    big.terminate();
    // Junk before the version: the node's socket refuses the frame from its header (1009, message
    // too big), without assembling it and without waiting for peertimeout; a local peer is not banned.
    for (const send of [
      (p: RawPeer) => p.sendCommand('junk', new Uint8Array(100_000)),
      (p: RawPeer) => p.sendCommand('version', new Uint8Array(MAX_HANDSHAKE_MESSAGE)),
    ]) {
      const p = await RawPeer.connect(a.p2pUrl);
      send(p);
      await p.waitClosed(15_000);
      assert.equal(p.closeCode, 1009, `closed with ${p.closeCode} ${p.closeReason}`);
    }
    await assertNotBanned();
    await nodeIsFine('frames over the handshake bound before a version');
  });

  it('p2p_timeouts: no version, or version without verack, is disconnected after peertimeout', async () => {
    const t0 = Date.now();
    const silent = await RawPeer.connect(a.p2pUrl);
    const noVerack = await RawPeer.connect(a.p2pUrl);
    noVerack.sendVersion();
    await noVerack.next('verack');
    const good = await RawPeer.handshake(a.p2pUrl);
    await Promise.all([silent.waitClosed(20_000), noVerack.waitClosed(20_000)]);
    const took = Date.now() - t0;
    assert.ok(took >= PEER_TIMEOUT_S * 1000 - 200, `disconnected after ${took} ms, before the timeout`);
    // A peer that completed the handshake in time outlives the timeout.
    await good.roundTrip();
    assert.ok(!good.closed);
    good.terminate();
    await nodeIsFine('silent connections');
  });

  it('a banned address is refused at the HTTP upgrade, no WebSocket made; what it sends behind is never read', async () => {
    // 127.0.0.2 is this machine too (all of 127/8 is loopback), so it can be banned alone.
    assert.equal(await a.rpc('setban', ['127.0.0.2', 'add', 600]), null);
    const from2 = { localAddress: '127.0.0.2' };
    const plain = await Promise.all(Array.from({ length: 5 }, () => rawUpgrade(a.p2pUrl, from2)));
    for (const r of plain)
      assert.deepEqual(r, { status: 403, body: 'banned\n' }, 'refused before any WebSocket');
    // The same behind an oversized frame sent in the request's packet (what crashed the node when a
    // refused socket was a WebSocket): the answer, or a reset once the node closes on unread bytes.
    const behind = await Promise.all(
      Array.from({ length: 5 }, () => rawUpgrade(a.p2pUrl, { ...from2, after: oversizedFrame() })),
    );
    for (const r of behind) assert.ok(r.status === 403 || r.status === 0, `answered ${r.status}`);
    assert.equal((await a.rpc<unknown[]>('getpeerinfo')).length, 1, 'no peer made for a banned address');
    await a.rpc('setban', ['127.0.0.2', 'remove']);
    const back = await RawPeer.handshake(a.p2pUrl, from2);
    await back.roundTrip();
    back.terminate();
    await nodeIsFine('refused upgrades from a banned address');
  });

  it('a remote peer that misbehaves is discouraged: not listed as banned, taken again while slots are free', async (t) => {
    const remote = nonLoopbackAddress();
    if (!remote) return t.skip('this machine has no non-loopback IPv4 address');
    const p = await RawPeer.handshake(a.p2pUrl, { localAddress: remote });
    p.sendText('garbage');
    await p.waitClosed();
    await assertNotBanned();
    // Core accepts a discouraged host while the inbound slots are not (almost) full (it is the
    // first evicted, and refused once they are: p2p-eviction.test.ts).
    const again = await RawPeer.handshake(a.p2pUrl, { localAddress: remote });
    await again.roundTrip();
    again.terminate();
    await nodeIsFine('a discouraged remote peer');
  });
});

/** A frame whose 12-byte command field holds `name` (padded with zeros) and `payload` zero bytes. */
function commandBytes(name: string, payload: number): Uint8Array {
  const out = new Uint8Array(12 + payload);
  for (let i = 0; i < name.length; i++) out[i] = name.charCodeAt(i);
  return out;
}

function truncatedInv(): Uint8Array {
  const out = new Uint8Array(1 + 36);
  out[0] = 2;
  out[1] = 1;
  return out;
}

/** An inv of MAX_INV + 1 transaction entries (Core's MAX_INV_SZ exceeded by one). */
function oversizedInv(): Uint8Array {
  const n = MAX_INV + 1;
  const out = new Uint8Array(3 + n * 36);
  const view = new DataView(out.buffer);
  out[0] = 0xfd; // CompactSize: 0xfd then a 16-bit count
  view.setUint16(1, n, true);
  for (let i = 0; i < n; i++) {
    out[3 + i * 36] = 1;
    view.setUint32(3 + i * 36 + 4, i, true);
  }
  return out;
}

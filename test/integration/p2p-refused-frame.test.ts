// A peer refused because the inbound slots are full, then sending one oversized WebSocket frame
// (issue 11's first crash: the refused socket had no `error` listener and `ws`'s "Max payload size
// exceeded" stopped the node). A real `tally node` with maxconnections=10 has 2 inbound slots (10
// less its 8 outbound); the honest node and one raw peer take them, both protected from eviction
// (Core's SelectNodeToEvict keeps 4 network groups), so newcomers are refused with 1013.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import WebSocket from 'ws';
import { MAX_MESSAGE } from '../../src/p2p/messages.js';
import { Builder } from '../chain/builder.js';
import { stopAll } from './cluster.js';
import { startTarget, type Target } from './hostile-target.js';
import { RawPeer } from './raw-peer.js';

const params = getParams('regtest');
const OURS = encodeAddress('pubkeyhash', hash160(new Builder(params).pub), params.prefixes);

/**
 * Opens a WebSocket and, in the 'open' event itself (before the node's close frame, which follows
 * the upgrade at once, is read), sends a frame over the node's limit. Resolves with the close code.
 */
function oversizedOnOpen(url: string): Promise<{ code: number; version: boolean }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let version = false;
    ws.on('open', () => ws.send(new Uint8Array(MAX_MESSAGE + 1), { binary: true }));
    ws.on('message', (d: Buffer) => (version ||= d.subarray(0, 7).toString() === 'version'));
    ws.on('error', () => {});
    ws.on('close', (code) => resolve({ code, version }));
  });
}

describe('a peer refused for want of a slot', { timeout: 120_000 }, () => {
  let target: Target;
  const datadir = mkdtempSync(join(tmpdir(), 'tally-refused-'));

  before(async () => {
    writeFileSync(join(datadir, 'tally.conf'), '[regtest]\nmaxconnections=10\n');
    target = await startTarget({ datadir, pay: OURS });
  });
  after(async () => {
    await stopAll();
    rmSync(datadir, { recursive: true, force: true });
  });

  it('sends an oversized frame: the node stays up and the honest peer still syncs', async () => {
    const { a } = target;
    const holder = await RawPeer.handshake(a.p2pUrl);
    assert.equal((await a.rpc<unknown[]>('getpeerinfo')).length, 2, 'both inbound slots taken');
    const refused = await Promise.all(Array.from({ length: 5 }, () => oversizedOnOpen(a.p2pUrl)));
    const codes = refused.map((r) => r.code);
    assert.ok(
      codes.every((c) => c === 1013 || c === 1006 || c === 1009),
      `close codes ${codes.join(', ')}`,
    );
    assert.ok(codes.includes(1013), `at least one refusal seen as such (${codes.join(', ')})`);
    assert.ok(
      refused.every((r) => !r.version),
      'a refused socket is sent no version',
    );
    // The peers holding the slots keep them; the refused ones were not scored (nothing to ban).
    await holder.roundTrip();
    assert.ok(!holder.closed, 'the slot holder was not evicted');
    assert.deepEqual(await a.rpc('listbanned'), []);
    await target.fine('oversized frames from refused sockets', 60);
    holder.terminate();
  });
});

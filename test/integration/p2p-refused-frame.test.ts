// A peer refused because the inbound slots are full (issue 11's first crash: the refused socket
// was a WebSocket with no `error` listener, and one oversized frame from it stopped the node with
// ws's "Max payload size exceeded"). A refused connection now gets a plain HTTP 503 at its
// upgrade and no WebSocket, so nothing it sends is ever parsed. A real `tally node` with
// maxconnections=10 has 2 inbound slots (10 less its 8 outbound); the honest node and one raw peer
// take them, both protected from eviction (Core's SelectNodeToEvict keeps 4 network groups).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { Builder } from '../chain/builder.js';
import { oversizedFrame, rawUpgrade } from '../p2p/helpers.js';
import { stopAll } from './cluster.js';
import { startTarget, type Target } from './hostile-target.js';
import { RawPeer } from './raw-peer.js';

const params = getParams('regtest');
const OURS = encodeAddress('pubkeyhash', hash160(new Builder(params).pub), params.prefixes);

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

  it('is answered 503 at the upgrade, no WebSocket; an oversized frame behind it costs nothing', async () => {
    const { a } = target;
    const holder = await RawPeer.handshake(a.p2pUrl);
    assert.equal((await a.rpc<unknown[]>('getpeerinfo')).length, 2, 'both inbound slots taken');
    const plain = await Promise.all(Array.from({ length: 5 }, () => rawUpgrade(a.p2pUrl)));
    for (const r of plain) assert.deepEqual(r, { status: 503, body: 'too many connections\n' });
    // An oversized frame's header and 4 MB of it in the request's own packet: the answer, or a
    // reset once the node closes a socket with bytes it never read.
    const behind = await Promise.all(
      Array.from({ length: 5 }, () => rawUpgrade(a.p2pUrl, { after: oversizedFrame() })),
    );
    for (const r of behind) assert.ok(r.status === 503 || r.status === 0, `answered ${r.status}`);
    // The peers holding the slots keep them; the refused ones were not scored (nothing to ban).
    await holder.roundTrip();
    assert.ok(!holder.closed, 'the slot holder was not evicted');
    assert.equal((await a.rpc<unknown[]>('getpeerinfo')).length, 2, 'no peer made for a refused one');
    assert.deepEqual(await a.rpc('listbanned'), []);
    await target.fine('oversized frames behind refused upgrades', 60);
    holder.terminate();
  });
});

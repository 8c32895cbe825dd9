// A wallet's unconfirmed transactions against a real `tally node` (issue 12): the node
// rebroadcasts them periodically, as Core's ResendWalletTransactions (a raw peer that connected
// after the send, and never asked for the pool, is sent an inv for it); a transaction the pool
// refuses after a restart (here: the restart raised minrelaytxfee above its fee) stays at 0
// confirmations until abandontransaction frees its coins, after which the balance is again the
// sum of the coins gettxout knows, an abandoned transaction is never resubmitted, and a later
// send confirms. abandontransaction of a pool transaction is refused, as Core.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { reverseHex } from '../../src/primitives/bytes.js';
import { startNode, stopAll, waitFor, type TallyProcess } from './cluster.js';
import { RawPeer } from './raw-peer.js';
import { checkedCoins, round, type Balances } from './wallet-coins.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-resend-'));
after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function balance(n: TallyProcess): Promise<number> {
  const b = (await n.rpc<Balances>('getbalances')).mine;
  return round(b.trusted + b.untrusted_pending);
}

/** A raw peer that connects now (and never asks for the pool) is sent an inv of `txid`. */
async function announced(n: TallyProcess, txid: string): Promise<void> {
  const peer = await RawPeer.handshake(n.p2pUrl);
  try {
    await waitFor(
      () =>
        peer.received.some((m) => m.command === 'inv' && m.items.some((i) => reverseHex(i.hash) === txid)),
      20_000,
      `an inv of ${txid} from the periodic rebroadcast`,
    );
  } finally {
    peer.terminate();
  }
}

test('periodic rebroadcast, and abandontransaction of one the pool refuses', async () => {
  mkdirSync(join(dir, 'regtest'), { recursive: true });
  writeFileSync(join(dir, 'tally.conf'), '[regtest]\nwalletresendinterval=1\n');
  const n = await startNode({ datadir: dir });
  await n.rpc('createwallet', ['w']);
  const own = await n.rpc<string>('getnewaddress');
  await n.rpc('generatetoaddress', [104, own]);
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(8), getParams('regtest').prefixes);

  // Sent while no peer is connected: only a rebroadcast can tell the raw peer about it.
  const first = await n.rpc<string>('sendtoaddress', [other, 1]);
  await announced(n, first);
  await assert.rejects(n.rpc('abandontransaction', [first]), /not eligible for abandonment/);
  await n.rpc('generatetoaddress', [1, other]);

  // A send, a crash before mempool.dat is written, and a restart whose pool refuses it.
  const before = await checkedCoins(n);
  assert.equal(await balance(n), before);
  const stuck = await n.rpc<string>('sendtoaddress', [other, 2]);
  await n.kill('SIGKILL');
  await n.restart(['--minrelaytxfee', '0.01']);
  assert.ok(!(await n.rpc<string[]>('getrawmempool')).includes(stuck));
  // Never confirmed: 0, or -1 (Core's conflicted) when the later send reused its freed coin.
  assert.ok((await n.rpc<{ confirmations: number }>('gettransaction', [stuck])).confirmations <= 0);
  // Its coin is neither spendable nor lost: abandoning frees it.
  await n.rpc('abandontransaction', [stuck]);
  const tx = await n.rpc<{ details: { category: string; abandoned?: boolean }[] }>('gettransaction', [stuck]);
  assert.ok(
    tx.details.some((d) => d.category === 'send' && d.abandoned === true),
    JSON.stringify(tx.details),
  );
  assert.equal(await checkedCoins(n), before);
  assert.equal(await balance(n), before);

  // Back to the default fee floor: the abandoned transaction is not resubmitted (at start nor by
  // the rebroadcast every second), the wallet still equals its coins, and a later send confirms.
  await n.restart([]);
  assert.equal(await checkedCoins(n), before);
  const later = await n.rpc<string>('sendtoaddress', [other, 3]);
  // A peer that connects after the send learns of it from a rebroadcast only: one ran since, and
  // it resubmitted nothing abandoned.
  await announced(n, later);
  assert.deepEqual(await n.rpc<string[]>('getrawmempool'), [later]);
  await n.rpc('generatetoaddress', [1, other]);
  assert.equal((await n.rpc<{ confirmations: number }>('gettransaction', [later])).confirmations, 1);
  // Never confirmed: 0, or -1 (Core's conflicted) when the later send reused its freed coin.
  assert.ok((await n.rpc<{ confirmations: number }>('gettransaction', [stuck])).confirmations <= 0);
  assert.equal(await balance(n), await checkedCoins(n));
});

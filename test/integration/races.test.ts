// Races and kills against one real `tally node` (issue 12): two conflicting transactions sent at
// once, paying the same fee, leave exactly one in the pool (the other refused "insufficient fee":
// the pool replaces by fee, so only a higher fee could displace the first); two sendtoaddress at
// once from a wallet with one spendable coin: one succeeds, the other is -6 and the balance never
// inflates; a node SIGKILLed right after a send resubmits the wallet's transaction on restart, its
// balance equals its confirmed coins less the send, and a later send works; abandontransaction.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, waitFor, type TallyProcess } from './cluster.js';

interface Unspent {
  txid: string;
  vout: number;
  amount: number;
}
interface Balances {
  mine: { trusted: number; untrusted_pending: number; immature: number };
}

const dir = mkdtempSync(join(tmpdir(), 'tally-races-'));
after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function node(): Promise<TallyProcess> {
  mkdirSync(join(dir, 'regtest'), { recursive: true });
  writeFileSync(join(dir, 'tally.conf'), '[regtest]\nwalletresendinterval=1\n');
  const n = await startNode({ datadir: dir });
  await n.rpc('createwallet', ['w']);
  return n;
}

/** Spends one coin to `address` for `value` coins (the rest is fee), signed by the wallet. */
async function rawSpend(n: TallyProcess, coin: Unspent, address: string, value: number): Promise<string> {
  const raw = await n.rpc<string>('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { [address]: value },
  ]);
  return (await n.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw])).hex;
}

test('races and a kill: one of two conflicting transactions, one of two sends, resubmission after SIGKILL', async () => {
  let n = await node();
  const addr = await n.rpc<string>('getnewaddress');
  await n.rpc('generatetoaddress', [103, addr]);
  // Someone else's address: what is paid there never comes back as spendable change.
  const other = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('regtest').prefixes);
  const [c1] = await n.rpc<Unspent[]>('listunspent');

  // Two conflicting transactions (the same coin, the same fee) submitted at the same moment.
  const a = await rawSpend(n, c1, other, 49.9999);
  const b = await rawSpend(n, c1, addr, 49.9999);
  const results = await Promise.allSettled([
    n.rpc('sendrawtransaction', [a]),
    n.rpc('sendrawtransaction', [b]),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.match(String(refused.reason.message), /^insufficient fee/);
  assert.equal((await n.rpc<string[]>('getrawmempool')).length, 1);
  await n.rpc('generatetoaddress', [1, other]);

  // Two sends at once, each of more than half the spendable balance: exactly one can succeed.
  const before = (await n.rpc<Balances>('getbalances')).mine.trusted;
  const half = Math.floor(before / 2) + 1;
  const sends = await Promise.allSettled([
    n.rpc<string>('sendtoaddress', [other, half]),
    n.rpc<string>('sendtoaddress', [other, half]),
  ]);
  assert.deepEqual(sends.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const failed = sends.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal(failed.reason.code, -6, String(failed.reason.message));
  const sent = (sends.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>).value;
  const afterSend = (await n.rpc<Balances>('getbalances')).mine;
  // The balance drops by the one send and its fee: the refused one spent nothing.
  assert.ok(
    afterSend.trusted + afterSend.untrusted_pending < before - half + 0.01,
    JSON.stringify(afterSend),
  );
  assert.ok(
    afterSend.trusted + afterSend.untrusted_pending > before - half - 0.01,
    JSON.stringify(afterSend),
  );

  // Kill right after the send: mempool.dat is never written.
  await n.kill('SIGKILL');
  n = await n.start();
  await waitFor(
    async () => (await n.rpc<string[]>('getrawmempool')).includes(sent),
    20_000,
    'the resubmission',
  );
  const tx = await n.rpc<{ confirmations: number; walletconflicts: string[]; trusted: boolean }>(
    'gettransaction',
    [sent],
  );
  assert.equal(tx.confirmations, 0);
  assert.deepEqual(tx.walletconflicts, []);
  assert.equal(tx.trusted, true);
  const restarted = (await n.rpc<Balances>('getbalances')).mine;
  assert.equal(
    restarted.trusted + restarted.untrusted_pending,
    afterSend.trusted + afterSend.untrusted_pending,
  );
  // A later send works (it may spend the resubmitted change) and both confirm.
  const later = await n.rpc<string>('sendtoaddress', [other, 1]);
  await n.rpc('generatetoaddress', [1, other]);
  for (const id of [sent, later])
    assert.equal((await n.rpc<{ confirmations: number }>('gettransaction', [id])).confirmations, 1);

  // abandontransaction: refused for a confirmed transaction, as Core.
  await assert.rejects(n.rpc('abandontransaction', [sent]), /not eligible for abandonment/);
});

// generateblock as Core v29's against a real tally process (regtest, wallet "w"): a block with
// exactly the transactions named (pool txids or raw hex) after a coinbase paying the subsidy alone,
// to an address or a descriptor; submit=false returns the block's hex without connecting it, and
// submitblock then connects the same block; Core's error codes and messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWalletNode, stopAll, type TallyProcess } from '../integration/cluster.js';
import { assertCoreShape, rpcCode as code } from './helpers.js';

type Vout = { value: number; scriptPubKey: { hex: string; address?: string } };
type BlockV2 = { height: number; tx: { txid: string; vout: Vout[] }[] };

let node: TallyProcess;
let address: string;
before(async () => {
  ({ node, address } = await startWalletNode());
});
after(stopAll);

const block = (hash: string) => node.rpc<BlockV2>('getblock', [hash, 2]);

test('generateblock: pool txids and raw transactions, in order, under a subsidy-only coinbase', async () => {
  const empty = await node.rpc<Record<string, unknown>>('generateblock', [address, []]);
  assertCoreShape(empty, { hash: 'string', 'hex?': 'string' }, 'generateblock');
  assert.equal(await node.rpc('getbestblockhash'), empty.hash);
  const b0 = await block(empty.hash as string);
  assert.equal(b0.tx.length, 1);
  assert.equal(b0.tx[0].vout[0].scriptPubKey.address, address);
  assert.equal(b0.tx[0].vout[0].value, 50);

  // The wallet may spend the first one's change in the second: given in the pool's order.
  const first = await node.rpc<string>('sendtoaddress', [address, 1]);
  const second = await node.rpc<string>('sendtoaddress', [address, 2]);
  const firstHex = await node.rpc<string>('getrawtransaction', [first]);
  const info = await node.rpc<{ scriptPubKey: string }>('validateaddress', [address]);
  // A descriptor as the output; the first transaction given raw, the second by txid.
  const r = await node.rpc<{ hash: string }>('generateblock', [
    `raw(${info.scriptPubKey})`,
    [firstHex, second],
  ]);
  const b1 = await block(r.hash);
  assert.deepEqual(
    b1.tx.map((t) => t.txid),
    [b1.tx[0].txid, first, second],
  );
  // Core builds the block without the pool: the coinbase claims the subsidy, not the fees.
  assert.equal(b1.tx[0].vout[0].value, 50);
  assert.deepEqual(await node.rpc('getrawmempool'), []);
});

test('generateblock submit=false returns the hex without connecting it; submitblock connects it', async () => {
  const tip = await node.rpc<string>('getbestblockhash');
  const txid = await node.rpc<string>('sendtoaddress', [address, 3]);
  const r = await node.rpc<{ hash: string; hex: string }>('generateblock', {
    output: address,
    transactions: [txid],
    submit: false,
  });
  assert.deepEqual(Object.keys(r), ['hash', 'hex']);
  assert.equal(await node.rpc('getbestblockhash'), tip);
  assert.deepEqual(await node.rpc('getrawmempool'), [txid]);
  assert.equal(await node.rpc('submitblock', [r.hex]), null);
  assert.equal(await node.rpc('getbestblockhash'), r.hash);
  assert.deepEqual(await node.rpc('getrawmempool'), []);
});

test("generateblock: Core's errors", async () => {
  const mined = await node.rpc<string>('sendtoaddress', [address, 1]);
  const minedHex = await node.rpc<string>('getrawtransaction', [mined]);
  await node.rpc('generateblock', [address, [mined]]);
  const fails: [unknown[], number, string | RegExp][] = [
    [['nope', []], -5, 'Error: Invalid address or descriptor'],
    [[address, ['00'.repeat(32)]], -5, `Transaction ${'00'.repeat(32)} not in mempool.`],
    [[address, ['zz']], -22, 'Transaction decode failed for zz. Make sure the tx has at least one input.'],
    // Its outputs are unspent in the chain: BIP30 (enforced on every Tally network, as on regtest).
    [[address, [minedHex]], -25, 'TestBlockValidity failed: bad-txns-BIP30'],
    [
      [
        'pkh(tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/*)',
        [],
      ],
      -8,
      'Ranged descriptor not accepted. Maybe pass through deriveaddresses first?',
    ],
    [[address], -1, /^generateblock "output" \["rawtx\/txid",\.\.\.\]|^generateblock "output" transactions/],
  ];
  for (const [params, c, message] of fails)
    await assert.rejects(node.rpc('generateblock', params), code(c, message), JSON.stringify(params));
  // The same payout parsing, each with Core's message: an address only, a descriptor only.
  await assert.rejects(node.rpc('generatetoaddress', [1, 'nope']), code(-5, 'Error: Invalid address'));
  await assert.rejects(
    node.rpc('generatetoaddress', [1, `addr(${address})`]),
    code(-5, 'Error: Invalid address'),
  );
  await assert.rejects(node.rpc('generatetodescriptor', [1, address]), code(-5, /./));
});

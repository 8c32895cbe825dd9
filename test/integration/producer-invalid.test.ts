// The block producer against a real `tally node` (issue 11): a pool transaction that would make
// the node's own block invalid is logged once with the reason, dropped from the pool with its
// child, and the template rebuilt; the block mined carries the rest and connects; nothing invalid
// is stored and nothing is retried. Nothing puts such a transaction in a pool that follows the
// chain, so the node runs with TALLY_TEST_POOL_MISSES_HEIGHT (src/node/node.ts, test-only, an
// environment variable no peer or RPC caller reaches): the pool is not told of the block at
// height 102, which spends a coin a pool transaction spends. Without the producer's proposal
// check, generatetoaddress mines invalid blocks in a loop and never returns: the test times out.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { Builder } from '../chain/builder.js';
import { startNode, stopAll } from './cluster.js';

const params = getParams('regtest');
const builder = new Builder(params);
const OURS = encodeAddress('pubkeyhash', hash160(builder.pub), params.prefixes);
const WARNING = 'transaction makes the block template invalid; dropped from the mempool';

after(() => stopAll());

test(
  'a pool transaction that makes the node’s own block invalid is dropped once; the block mined connects',
  { timeout: 60_000 },
  async () => {
    process.env.TALLY_TEST_POOL_MISSES_HEIGHT = '102';
    const node = await startNode({ args: ['--connect', '0'] });
    delete process.env.TALLY_TEST_POOL_MISSES_HEIGHT;
    const now = Math.floor(Date.now() / 1000);
    const b1 = builder.block(builder.genesis, { time: now - 300 });
    const chain = [b1, ...builder.chain(b1, 100, (i) => ({ time: now - 299 + i }))];
    for (const b of chain) await node.rpc('submitblock', [bytesToHex(b.encode())]);
    assert.equal(await node.rpc<number>('getblockcount'), 101);

    // In the pool: doomed (b1's coin), its child, and good (block 2's coin, mature at 102).
    const doomed = builder.spend([builder.cbOut(b1)], { fee: 10_000n });
    const child = builder.spend([builder.out(doomed)], { fee: 10_000n });
    const good = builder.spend([builder.cbOut(chain[1])], { fee: 5_000n });
    for (const tx of [doomed, child, good]) await node.rpc('sendrawtransaction', [bytesToHex(tx.encode())]);
    // Block 102 spends b1's coin another way; the pool misses it and keeps doomed and its child.
    const rival = builder.spend([builder.cbOut(b1)], { fee: 20_000n });
    const x = builder.block(chain[chain.length - 1], { txs: [rival], fees: 20_000n, time: now });
    assert.equal(await node.rpc('submitblock', [bytesToHex(x.encode())]), null);
    assert.equal((await node.rpc<string[]>('getrawmempool')).length, 3);

    const [hash] = await node.rpc<string[]>('generatetoaddress', [1, OURS]);
    const mined = await node.rpc<{ height: number; tx: string[] }>('getblock', [hash, 1]);
    assert.equal(mined.height, 103, 'the block mined connected on 102');
    assert.deepEqual(mined.tx.slice(1), [good.txidHex()], 'the rebuilt template holds the rest');
    assert.deepEqual(await node.rpc('getrawmempool'), [], 'doomed and its child dropped, good mined');
    const lines = node.output.split('\n').filter((l) => l.includes(WARNING));
    assert.equal(lines.length, 1, `logged once:\n${lines.join('\n')}`);
    assert.match(lines[0], new RegExp(doomed.txidHex()));
    assert.match(lines[0], /bad-txns-inputs-missingorspent/);

    // Nothing retried, nothing invalid stored: the next block is mined at once, no new warning.
    await node.rpc('generatetoaddress', [1, OURS]);
    assert.equal(await node.rpc<number>('getblockcount'), 104);
    assert.equal(node.output.split('\n').filter((l) => l.includes(WARNING)).length, 1);
    const tips = await node.rpc<{ status: string }[]>('getchaintips');
    assert.deepEqual(
      tips.map((t) => t.status),
      ['active'],
      'no invalid block of its own in the block index',
    );
  },
);

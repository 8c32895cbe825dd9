// `tally mine` as a user runs it, against real nodes on 127.0.0.1: through a node's Stratum port
// (--pool) and through its getblocktemplate (--rpc), it mines regtest blocks the node accepts,
// pays the given address, and the node relays them to its peer. getstratuminfo counts the shares.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { runTally, startNode, stopAll, waitSameTip, type TallyProcess } from './cluster.js';

const ADDR = encodeAddress('pubkeyhash', new Uint8Array(20).fill(9), getParams('regtest').prefixes);

describe('tally mine', () => {
  let a: TallyProcess;
  let b: TallyProcess;
  after(() => stopAll());

  it('mines blocks through the Stratum port and through getblocktemplate; the peer gets them', async () => {
    a = await startNode({ args: ['--stratum', '0'] });
    // The peer's threads run a kernel forced by name.
    b = await startNode({ args: ['--connect', a.p2pUrl, '--minerkernel', 'native-scalar'] });
    const port = Number(/stratum listening .*port=(\d+)/.exec(a.output)?.[1]);
    assert.ok(port > 0, a.output);
    // The node says once which kernel its threads run; getmininginfo says the same.
    const kernel = /hash kernel (native-[a-z0-9-]+)/.exec(a.output)?.[1];
    assert.ok(kernel, a.output);
    assert.equal((await a.rpc<{ kernel: string }>('getmininginfo')).kernel, kernel);
    assert.equal((await b.rpc<{ kernel: string }>('getmininginfo')).kernel, 'native-scalar');

    const pool = await runTally([
      '--network',
      'regtest',
      'mine',
      '--pool',
      `stratum+tcp://127.0.0.1:${port}`,
      '--address',
      `${ADDR}.rig1`,
      '--threads',
      '1',
      '--max-shares',
      '3',
    ]);
    assert.equal(pool.code, 0, pool.stdout + pool.stderr);
    assert.match(pool.stdout, /share accepted \(3 accepted/);
    const info = await a.rpc<{ workers: { name: string; accepted: number; blocks: number }[] }>(
      'getstratuminfo',
    );
    const w = info.workers.find((x) => x.name === `${ADDR}.rig1`);
    assert.ok(w && w.accepted >= 3 && w.blocks >= 3, JSON.stringify(info));
    const height = await a.rpc<number>('getblockcount');
    assert.ok(height >= 3);
    // The coinbase of the tip pays the pool user's address.
    const tip = await a.rpc<string>('getbestblockhash');
    const block = await a.rpc<{ tx: string[] }>('getblock', [tip, 2]);
    assert.ok(JSON.stringify(block).includes(ADDR), 'tip coinbase pays the miner');

    const rpc = await runTally([
      '--network',
      'regtest',
      '--datadir',
      a.datadir,
      'mine',
      '--rpc',
      `http://127.0.0.1:${a.rpcPort}`,
      '--address',
      ADDR,
      '--threads',
      '1',
      '--max-shares',
      '2',
    ]);
    assert.equal(rpc.code, 0, rpc.stdout + rpc.stderr);
    assert.match(rpc.stdout, /block accepted \(2 accepted, 0 rejected\)/);
    assert.equal(await a.rpc<number>('getblockcount'), height + 2);
    await waitSameTip([a, b], 20_000);
  });

  it('says what is wrong with a bad pool URL or a pool that is not there', async () => {
    const bad = await runTally(['mine', '--pool', 'http://nope', '--address', ADDR, '--threads', '1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /stratum\+tcp:\/\/HOST:PORT/);
    const none = await runTally([
      'mine',
      '--pool',
      'stratum+tcp://127.0.0.1:1',
      '--address',
      ADDR,
      '--threads',
      '1',
    ]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /ECONNREFUSED/);
  });
});

// Mining RPC: getblocktemplate (BIP22 fields, BIP23 proposals, -9/-10), submitblock (null,
// duplicate, high-hash, inconclusive, -22), getmininginfo, getnetworkhashps, generatetoaddress,
// and a round trip as an external miner (cpuminer) does it: template -> own coinbase and merkle
// root -> solve -> submitblock.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { randomRpcBodies, rawPost, rpcCode as code } from './helpers.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coinbaseHeightScript } from '../../src/consensus/coinbase.js';
import { getParams } from '../../src/consensus/params.js';
import { hashToBigInt } from '../../src/consensus/pow.js';
import { KERNELS, type KernelName } from '../../src/mining/hasher.js';
import { Miner } from '../../src/mining/miner.js';
import { subscribeHooks, templateAdapter } from '../../src/node/adapters.js';
import { BlockProducer } from '../../src/mining/producer.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/primitives/bytes.js';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { RpcError } from '../../src/rpc/errors.js';
import { registerMiningMethods, type MiningRpcDeps } from '../../src/rpc/mining-methods.js';
import { RpcServer } from '../../src/rpc/server.js';
import { pushData } from '../../src/script/standard.js';
import { fixture, params, reorgUnderWay } from '../mining/helpers.js';

interface Gbt {
  version: number;
  previousblockhash: string;
  transactions: {
    data: string;
    txid: string;
    hash: string;
    depends: number[];
    fee: number;
    sigops: number;
  }[];
  coinbasevalue: number;
  target: string;
  mintime: number;
  curtime: number;
  bits: string;
  height: number;
  longpollid: string;
  capabilities: string[];
  mutable: string[];
  noncerange: string;
  sigoplimit: number;
  sizelimit: number;
}

/** What an external miner does with a template; `solved` false looks for a nonce that fails. */
function blockFromTemplate(t: Gbt, payout: Uint8Array, solved = true): Block {
  const scriptSig = concatBytes(
    coinbaseHeightScript(t.height),
    pushData(Uint8Array.of(0xca, 0xfe, 0x01, 0x02)),
  );
  const cb = new Tx(
    1,
    [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), scriptSig, 0xffffffff)],
    [new TxOut(BigInt(t.coinbasevalue), payout)],
    0,
  );
  const txs = [cb, ...t.transactions.map((x) => Tx.decode(hexToBytes(x.data)))];
  const root = computeMerkleRoot(txs.map((x) => x.txid())).root;
  const prev = hexToBytes(t.previousblockhash).reverse();
  const target = BigInt('0x' + t.target);
  for (let nonce = 0; ; nonce++) {
    const h = new BlockHeader(t.version, prev, root, t.curtime, parseInt(t.bits, 16), nonce);
    if (hashToBigInt(h.hash()) <= target === solved) return new Block(h, txs);
  }
}

async function setup(over: Partial<MiningRpcDeps> = {}) {
  const f = await fixture(2);
  const dir = mkdtempSync(join(tmpdir(), 'tally-mrpc-'));
  const miner = Miner.create({ threads: 2 });
  const producer = new BlockProducer({
    chain: f.chain,
    mempool: f.mempool,
    params,
    miner,
    payoutScript: f.builder.script,
  });
  subscribeHooks(f.chain, producer);
  const server = new RpcServer({ port: 0, auth: { cookieDir: dir } });
  const hooks = registerMiningMethods(server, {
    chain: f.chain,
    mempool: f.mempool,
    params,
    producer,
    templates: templateAdapter(f.chain, f.mempool),
    connectionCount: () => 0,
    isInitialBlockDownload: () => false,
    ...over,
  });
  subscribeHooks(f.chain, hooks);
  return {
    f,
    server,
    producer,
    close: async () => {
      await producer.stop();
      await miner.close();
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('cpuminer round trip: getblocktemplate -> coinbase + merkle -> solve -> submitblock', async () => {
  const { f, server, close } = await setup();
  try {
    const { builder: b, chain, mempool } = f;
    const parent = b.spend([f.coins[0]], { fee: 300n });
    const child = b.spend([b.out(parent)], { fee: 9_000n });
    for (const tx of [parent, child]) await mempool.accept(tx);
    const t = (await server.call('getblocktemplate', [{ rules: [] }])) as Gbt;
    assert.equal(t.height, chain.height + 1);
    assert.equal(t.previousblockhash, chain.tip.hashHex);
    assert.deepEqual(t.capabilities, ['proposal']);
    assert.deepEqual(t.mutable, ['time', 'transactions', 'prevblock']);
    assert.equal(t.noncerange, '00000000ffffffff');
    assert.equal(t.bits, '207fffff');
    assert.equal(t.target, '7fffff' + '0'.repeat(58));
    assert.equal(t.sizelimit, params.maxBlockSize);
    assert.equal(t.sigoplimit, params.maxBlockSigops);
    assert.equal(t.mintime, chain.medianTimePast() + 1);
    assert.ok(t.curtime >= t.mintime);
    assert.equal(t.coinbasevalue, 50 * 100_000_000 + 9_300);
    assert.deepEqual(
      t.transactions.map((x) => [x.txid, x.hash, x.depends, x.fee, x.sigops]),
      [
        [parent.txidHex(), parent.txidHex(), [], 300, 1],
        [child.txidHex(), child.txidHex(), [1], 9_000, 1],
      ],
    );
    assert.equal(t.transactions[0].data, bytesToHex(parent.encode()));
    assert.ok(t.longpollid.startsWith(chain.tip.hashHex));

    // BIP23: the unsolved block is a valid proposal; a broken one says why.
    const unsolved = blockFromTemplate(t, b.script, false);
    const proposal = (hex: string) => server.call('getblocktemplate', [{ mode: 'proposal', data: hex }]);
    assert.equal(await proposal(bytesToHex(unsolved.encode())), null);
    const badRoot = new Block(
      new BlockHeader(4, unsolved.header.prevHash, new Uint8Array(32), t.curtime, unsolved.header.bits, 0),
      unsolved.txs,
    );
    assert.equal(await proposal(bytesToHex(badRoot.encode())), 'bad-txnmrklroot');
    const greedy = { ...t, coinbasevalue: t.coinbasevalue + 1 };
    assert.equal(await proposal(bytesToHex(blockFromTemplate(greedy, b.script).encode())), 'bad-cb-amount');
    await assert.rejects(proposal('00ff'), code(-22));
    await assert.rejects(server.call('getblocktemplate', [{ mode: 'nonsense' }]), code(-8));

    // high-hash, then the solved block: null, the tip moves, the mempool empties.
    assert.equal(await server.call('submitblock', [bytesToHex(unsolved.encode())]), 'high-hash');
    const block = blockFromTemplate(t, b.script);
    assert.equal(await server.call('submitblock', [bytesToHex(block.encode())]), null);
    assert.equal(chain.tip.hashHex, block.hashHex());
    assert.equal(mempool.size, 0);
    assert.equal(await server.call('submitblock', [bytesToHex(block.encode())]), 'duplicate');
    assert.equal(await proposal(bytesToHex(block.encode())), 'duplicate');
    assert.equal(await proposal(bytesToHex(unsolved.encode())), 'inconclusive-not-best-prevblk');
    // A block whose parent is unknown waits as an orphan: inconclusive.
    const orphan = b.block(b.block(f.blocks[f.blocks.length - 1], { tag: 900 }), { tag: 901 });
    assert.equal(await server.call('submitblock', [bytesToHex(orphan.encode())]), 'inconclusive');
    await assert.rejects(server.call('submitblock', ['zz']), code(-22));
    await assert.rejects(server.call('submitblock', ['0000']), code(-22));
    await assert.rejects(
      server.call('submitblock', [bytesToHex(block.encode().subarray(0, 100))]),
      code(-22),
    );
    await assert.rejects(server.call('submitblock', [5]), code(-3));
    await assert.rejects(server.call('submitblock', []), code(-1));

    // The next template is on the new tip and empty.
    const next = (await server.call('getblocktemplate')) as Gbt;
    assert.equal(next.previousblockhash, block.hashHex());
    assert.equal(next.transactions.length, 0);
    assert.notEqual(next.longpollid, t.longpollid);
  } finally {
    await close();
  }
});

test('getblocktemplate long poll returns when the tip changes', async () => {
  const { f, server, close } = await setup();
  try {
    const t = (await server.call('getblocktemplate')) as Gbt;
    const waiting = server.call('getblocktemplate', [{ longpollid: t.longpollid }]) as Promise<Gbt>;
    let done = false;
    void waiting.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false);
    await f.chain.processBlock(f.builder.block(f.blocks[f.blocks.length - 1], { timeDelta: 1 }));
    const after = await waiting;
    assert.equal(after.height, t.height + 1);
  } finally {
    await close();
  }
});

test('getblocktemplate: -9 without peers on a public network, -10 in initial block download', async () => {
  const main = await setup({ params: getParams('main') });
  try {
    await assert.rejects(main.server.call('getblocktemplate'), (e) => {
      return e instanceof RpcError && e.code === -9 && e.message === 'Tally is not connected!';
    });
  } finally {
    await main.close();
  }
  const ibd = await setup({
    params: getParams('main'),
    isInitialBlockDownload: () => true,
    connectionCount: () => 3,
  });
  try {
    await assert.rejects(ibd.server.call('getblocktemplate'), code(-10));
  } finally {
    await ibd.close();
  }
});

test('getblocktemplate on a test chain skips the peer and sync checks (Core IsTestChain)', async () => {
  const rt = await setup({ isInitialBlockDownload: () => true, connectionCount: () => 0 });
  try {
    const t = (await rt.server.call('getblocktemplate')) as { height: number };
    assert.equal(t.height, rt.f.chain.height + 1);
  } finally {
    await rt.close();
  }
});

test('generatetoaddress, getmininginfo, getnetworkhashps', async () => {
  const { f, server, producer, close } = await setup();
  try {
    const { chain, builder: b } = f;
    const addr = encodeAddress('pubkeyhash', b.script.slice(3, 23), params.prefixes);
    const start = chain.height;
    const hashes = (await server.call('generatetoaddress', [3, addr])) as string[];
    assert.equal(hashes.length, 3);
    assert.equal(chain.height, start + 3);
    assert.equal(chain.tip.hashHex, hashes[2]);
    const cb = (await chain.getBlock(hashes[0]))!.txs[0];
    assert.deepEqual([...cb.outputs[0].scriptPubKey], [...b.script]);
    assert.deepEqual(await server.call('generatetoaddress', { nblocks: 0, address: addr }), []);
    await assert.rejects(
      server.call('generatetoaddress', [1, 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfX']),
      code(-5),
    );
    await assert.rejects(server.call('generatetoaddress', ['1', addr]), code(-3));
    await assert.rejects(server.call('generatetoaddress', [-1, addr]), code(-8));
    await assert.rejects(server.call('generatetoaddress', [1]), code(-1));
    assert.equal(producer.blocksFound, 3);

    const info = (await server.call('getmininginfo')) as Record<string, unknown>;
    assert.equal(info.blocks, chain.height);
    assert.equal(info.chain, 'regtest');
    assert.equal(info.pooledtx, 0);
    assert.equal(info.generate, false);
    assert.equal(info.blocksfound, 3);
    assert.equal(typeof info.hashespersec, 'number');
    assert.ok(KERNELS.includes(info.kernel as KernelName), String(info.kernel));
    assert.deepEqual(info.warnings, []); // an array since Core v28
    // Regtest's every block is at the limit: 0x207fffff, its target 7fffff00…00, and so is the next.
    assert.equal(info.bits, '207fffff');
    assert.equal(info.target, '7fffff' + '0'.repeat(58));
    assert.deepEqual(info.next, {
      height: chain.height + 1,
      bits: '207fffff',
      difficulty: info.difficulty,
      target: info.target,
    });
    assert.ok(Math.abs((info.difficulty as number) - 4.656542373906925e-10) < 1e-20);
    assert.ok((info.networkhashps as number) > 0);

    // Builder blocks are 1 s apart, each worth 2 hashes of work at the regtest target.
    const hps = (await server.call('getnetworkhashps', [10, 50])) as number;
    assert.equal(hps, 2);
    assert.equal(
      await server.call('getnetworkhashps', [-1, 50]),
      await server.call('getnetworkhashps', [120, 50]),
    );
    assert.equal(await server.call('getnetworkhashps', [10, 0]), 0);
    await assert.rejects(server.call('getnetworkhashps', ['x']), code(-3));
  } finally {
    await close();
  }
});

test('random requests at the mining methods always get a JSON-RPC answer', async () => {
  const { f, server, close } = await setup();
  try {
    await server.start();
    const cookie = readFileSync(server.cookieFile!, 'utf8');
    const tip = f.chain.tip.hashHex;
    const blockHex = bytesToHex(f.blocks[f.blocks.length - 1].encode());
    // generatetoaddress is left out: a valid address with a large count would mine for minutes.
    const methods = ['getblocktemplate', 'submitblock', 'getmininginfo', 'getnetworkhashps'];
    const hex = fc.uint8Array({ maxLength: 120 }).map(bytesToHex);
    const value = fc.oneof(
      fc.constantFrom(blockHex, tip, 'proposal', 'template', blockHex.slice(0, 200)),
      hex,
      fc.integer({ min: -3, max: 200 }),
      fc.record(
        {
          mode: fc.constantFrom('proposal', 'template', 'x'),
          data: fc.oneof(hex, fc.constant(blockHex)),
          rules: fc.array(fc.constantFrom('segwit', 'csv', 'x')),
          capabilities: fc.array(fc.string({ maxLength: 6 })),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const params = fc.oneof(
      fc.array(value, { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('template_request', 'hexdata', 'nblocks', 'height', 'dummy'), value, {
        maxKeys: 3,
      }),
    );
    await fc.assert(
      fc.asyncProperty(randomRpcBodies(methods, params), async (body) => {
        const r = await rawPost(server.port, body, cookie);
        assert.ok([200, 204, 400, 404, 500].includes(r.status), `status ${r.status} for ${body}`);
        if (r.status !== 204) JSON.parse(r.body);
      }),
      { numRuns: 200 },
    );
    assert.equal(f.chain.tip.hashHex, tip, 'nothing random changed the chain');
  } finally {
    await server.stop();
    await close();
  }
});

test("getblocktemplate right after a reorg lists the disconnected block's transactions", async () => {
  const { f, server, producer, close } = await setup();
  try {
    const { tx, refilled } = await reorgUnderWay(f, producer);
    const t = (await server.call('getblocktemplate', [{ rules: [] }])) as Gbt;
    await refilled;
    assert.deepEqual(
      t.transactions.map((x) => x.txid),
      [tx.txidHex()],
    );
  } finally {
    await close();
  }
});

// The block producer on a real regtest chain: blocks mined through the worker pool on 2 threads
// connect and carry the mempool's transactions; a new tip stops every thread's search within
// 100 ms; the extra-nonce rolls when a header's nonce range is exhausted; stop() leaves no thread
// hashing; a pool transaction that would make the block invalid is dropped before any hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../../src/chain/chain.js';
import { coinbaseHeightScript } from '../../src/consensus/coinbase.js';
import { DEFAULT_CHUNK, Miner, type SearchJob, type SearchOutcome } from '../../src/mining/miner.js';
import { BlockProducer } from '../../src/mining/producer.js';
import { subscribeHooks } from '../../src/node/adapters.js';
import { Mempool } from '../../src/mempool/mempool.js';
import { mempoolChainAdapter } from '../../src/node/adapters.js';
import { BlockHeader } from '../../src/primitives/block.js';
import { type Fixture, fixture, reorgUnderWay } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

/** Records when each search's threads have all returned, and how. */
function instrument(miner: Miner): { outcome: SearchOutcome; at: number; hashes: number; job: SearchJob }[] {
  const log: { outcome: SearchOutcome; at: number; hashes: number; job: SearchJob }[] = [];
  const original = miner.searchOutcome.bind(miner);
  miner.searchOutcome = async (job: SearchJob) => {
    const outcome = await original(job);
    log.push({ outcome, at: performance.now(), hashes: miner.hashes, job });
    return outcome;
  };
  return log;
}

/** miner.hashes read at each abort(), just after the epoch moved: what threads hash later is theirs. */
function recordAborts(miner: Miner): number[] {
  const at: number[] = [];
  const original = miner.abort.bind(miner);
  miner.abort = () => {
    original();
    at.push(miner.hashes);
  };
  return at;
}

/**
 * A producer that sees a chain whose next block needs ~2^32 hashes, so its searches run until
 * aborted or exhausted; tips still come from easy regtest blocks fed to the real chain.
 */
function hardProducer(f: Fixture, miner: Miner, nonceRange?: number): BlockProducer {
  const hard = Object.create(f.chain) as Chain;
  hard.nextWorkRequired = () => 0x1d00ffff;
  const producer = new BlockProducer({
    ...f,
    chain: hard,
    params: f.chain.params,
    miner,
    payoutScript: f.builder.script,
    nonceRange,
  });
  subscribeHooks(f.chain, producer);
  return producer;
}

test('mines regtest blocks on 2 threads: each valid, connected, mempool transactions included', async () => {
  const f = await fixture(3);
  const miner = Miner.create({ threads: 2 });
  const producer = new BlockProducer({ ...f, params: f.chain.params, miner, payoutScript: f.builder.script });
  subscribeHooks(f.chain, producer);
  try {
    const { builder: b, mempool, chain } = f;
    const txs = [b.spend([f.coins[0]], { fee: 1_000n }), b.spend([f.coins[1]], { fee: 2_000n })];
    for (const tx of txs) await mempool.accept(tx);
    const connected: string[] = [];
    chain.on('connect', (e) => connected.push(e.block.hashHex()));
    const start = chain.height;

    // generatetoaddress's path: n blocks without start().
    const hashes = await producer.mineBlocks(3, b.script);
    assert.equal(hashes.length, 3);
    assert.equal(chain.height, start + 3);
    assert.deepEqual(connected, hashes);
    const first = (await chain.getBlock(hashes[0]))!;
    assert.deepEqual(
      first.txs.slice(1).map((t) => t.txidHex()),
      // Higher fee rate first.
      [txs[1], txs[0]].map((t) => t.txidHex()),
    );
    const hs = coinbaseHeightScript(start + 1);
    assert.deepEqual([...first.txs[0].inputs[0].scriptSig.subarray(0, hs.length)], [...hs]);
    assert.equal(first.txs[0].outputs[0].value, 50n * 100_000_000n + 3_000n);
    assert.equal(mempool.size, 0);

    // The background loop: a transaction arriving while it runs goes into a later block.
    producer.start();
    assert.equal(producer.running, true);
    await until(() => producer.blocksFound >= 5);
    const late = b.spend([f.coins[2]], { fee: 1_500n });
    await mempool.accept(late);
    await until(() => mempool.size === 0);
    await producer.stop();
    assert.equal(producer.running, false);
    assert.ok(producer.blocksFound >= 5);
    assert.equal(chain.height, start + producer.blocksFound);
    for (const h of connected) assert.ok(chain.isOnActiveChain(chain.getEntry(h)!));
    assert.equal(connected.length, chain.height - start);
    const withLate = await Promise.all(connected.map((h) => chain.getBlock(h)));
    assert.ok(withLate.some((blk) => blk!.txs.some((t) => t.txidHex() === late.txidHex())));
  } finally {
    await producer.stop();
    await miner.close();
    await f.close();
  }
});

test('a new tip aborts every thread within a chunk of hashes and mining resumes on it; stop() is clean', async (t) => {
  const THREADS = 2;
  const f = await fixture(1);
  const miner = Miner.create({ threads: THREADS });
  const producer = hardProducer(f, miner);
  const log = instrument(miner);
  const aborts = recordAborts(miner);
  try {
    await miner.ready();
    let tipAt = 0;
    f.chain.on('tip', () => {
      tipAt = performance.now();
    });
    producer.start();
    const latencies: number[] = [];
    const after: number[] = [];
    let parent = f.blocks[f.blocks.length - 1];
    for (let i = 0; i < 4; i++) {
      const before = miner.hashes;
      await until(() => miner.hashes > before + 10_000);
      const n = log.length;
      const a = aborts.length;
      parent = f.builder.block(parent, { timeDelta: 1 });
      const res = await f.chain.processBlock(parent);
      assert.ok(res.accepted, res.reason);
      await until(() => log.length > n, 10_000);
      assert.equal(log[n].outcome.status, 'aborted');
      assert.ok(aborts.length > a, 'the new tip aborted the search');
      latencies.push(log[n].at - tipAt);
      after.push(log[n].hashes - aborts[a]);
    }
    // The next search is on the newest tip.
    await until(() => miner.hashes > 0 && producer.running);
    await sleep(50);
    const report =
      `tip to all threads returned: ${latencies.map((x) => x.toFixed(1)).join(', ')} ms; ` +
      `hashes after the tip: ${after.join(', ')}`;
    t.diagnostic(report);
    // Threads read the abort word before every chunk (see miner.test.ts), so once the epoch has
    // moved each finishes the chunk it is in and no more. Counted in hashes from the abort itself,
    // which the OS's scheduling of three threads on 2 shared cores does not change. (Counted from
    // before stop() was called, it also counts what threads hashed while the main thread got to
    // the abort: a chunk on the AVX-512 kernel takes ~0.4 ms, as long as the first
    // AbortController.abort() in the process; hence stop() aborts the miner first.)
    assert.ok(
      after.every((n) => n <= THREADS * DEFAULT_CHUNK),
      report,
    );
    const a = aborts.length;
    await producer.stop();
    assert.ok(aborts.length > a, 'stop() aborted the search');
    const afterStop = miner.hashes - aborts[a];
    assert.ok(afterStop <= THREADS * DEFAULT_CHUNK, `threads hashed ${afterStop} after stop()'s abort`);
    const last = log[log.length - 1];
    assert.equal(last.outcome.status, 'aborted');
    assert.deepEqual(BlockHeader.decode(last.job.header).prevHash, f.chain.tip.hash);
    const hashes = miner.hashes;
    await sleep(100);
    assert.equal(miner.hashes, hashes, 'a thread still hashes after stop()');
    assert.equal(producer.blocksFound, 0);
  } finally {
    await producer.stop();
    await miner.close();
    await f.close();
  }
});

test('an exhausted nonce range rolls the extra-nonce; maxTries bounds mineBlocks', async () => {
  const f = await fixture(1);
  const miner = Miner.create({ threads: 2 });
  const producer = hardProducer(f, miner, 20_000);
  const log = instrument(miner);
  try {
    const hashes = await producer.mineBlocks(1, f.builder.script, { maxTries: 50_000 });
    assert.deepEqual(hashes, []);
    assert.ok(log.length >= 3, `${log.length} searches`);
    const roots = new Set(
      log.map((l) => Buffer.from(BlockHeader.decode(l.job.header).merkleRoot).toString('hex')),
    );
    assert.equal(roots.size, log.length, 'each header has its own extra-nonce');
    assert.ok(log.every((l) => l.outcome.status === 'exhausted'));
    assert.ok(log.every((l) => (l.job.endNonce ?? 0) <= 20_000));
    assert.ok(miner.hashes >= 50_000 && miner.hashes < 50_000 + 20_000);
  } finally {
    await producer.stop();
    await miner.close();
    await f.close();
  }
});

test('a pool transaction that makes the template invalid is found, dropped with its child, logged once; the block mined is valid', async () => {
  const f = await fixture(3);
  const { builder: b, chain } = f;
  // A pool that does not follow the chain: it keeps a transaction whose coin a block then spends.
  const stale = new Mempool({ chain: mempoolChainAdapter(chain), params: chain.params });
  const miner = Miner.create({ threads: 1 });
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    error: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
    warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
  };
  const producer = new BlockProducer({
    chain,
    mempool: stale,
    params: chain.params,
    miner,
    payoutScript: b.script,
    logger: logger,
  });
  try {
    const good = b.spend([f.coins[0]], { fee: 1_000n });
    const doomed = b.spend([f.coins[1]], { fee: 50_000n });
    const child = b.spend([b.out(doomed)], { fee: 50_000n });
    for (const tx of [good, doomed, child]) await stale.accept(tx);
    const rival = b.spend([f.coins[1]], { fee: 2_000n });
    const tip = f.blocks[f.blocks.length - 1];
    const res = await chain.processBlock(b.block(tip, { txs: [rival], fees: 2_000n, timeDelta: 1 }));
    assert.ok(res.accepted);
    assert.equal(stale.size, 3);
    // From here on the pool follows the chain, as the node wires it.
    chain.on('connect', (e) => stale.removeForBlock(e.block.txs));

    const hashes = await producer.mineBlocks(2, b.script);
    assert.equal(hashes.length, 2);
    const mined = (await chain.getBlock(hashes[0]))!;
    assert.deepEqual(
      mined.txs.slice(1).map((t) => t.txidHex()),
      [good.txidHex()],
    );
    assert.ok(!stale.has(doomed.txid()) && !stale.has(child.txid()));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0].obj.txid, doomed.txidHex());
    assert.equal(warnings[0].obj.reason, 'bad-txns-inputs-missingorspent');
  } finally {
    await producer.stop();
    await miner.close();
    await f.close();
  }
});

test("a reorg's transactions are back in the pool before the next template (generatetoaddress right after invalidateblock)", async () => {
  const f = await fixture(2);
  const miner = Miner.create({ threads: 1 });
  const producer = new BlockProducer({ ...f, params: f.chain.params, miner, payoutScript: f.builder.script });
  subscribeHooks(f.chain, producer);
  try {
    const { tx, refilled } = await reorgUnderWay(f, producer);
    const [next] = await producer.mineBlocks(1, f.builder.script);
    await refilled;
    const block = (await f.chain.getBlock(next))!;
    assert.deepEqual(
      block.txs.slice(1).map((t) => t.txidHex()),
      [tx.txidHex()],
    );
  } finally {
    await producer.stop();
    await miner.close();
    await f.close();
  }
});

// Tools written for Bitcoin Core against a real tally node: a copied bitcoin.conf (renamed
// tally.conf, with includeconf) starts it, and each setting is seen honoured (server, rest,
// txindex, rpcauth, zmqpub*, blocknotify, walletnotify, fallbackfee, maxmempool, dbcache, prune);
// the `bitcoin-core` npm client's RPC (through rpcauth) and REST calls work; a ZMQ subscriber (the
// `zeromq` package), once Core's sync-up loop saw a message arrive, gets every topic in order with
// contiguous sequence numbers (numbered from 0) through mining, a payment and a reorg;
// blocknotify and walletnotify run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Client from 'bitcoin-core';
import { Subscriber } from 'zeromq';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { freePort, startNode, stopAll, waitFor } from './cluster.js';

/** Pays no wallet: the sync-up blocks. */
const NOBODY = encodeAddress('pubkeyhash', new Uint8Array(20).fill(7), getParams('regtest').prefixes);

const dirs: string[] = [];
after(async () => {
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Msg = { topic: string; body: Buffer; seq: number };

test(
  'a bitcoin.conf node serves the bitcoin-core client, REST, ZMQ and notify commands',
  { timeout: 240_000 },
  async (t) => {
    const datadir = mkdtempSync(join(tmpdir(), 'tally-core-if-'));
    dirs.push(datadir);
    const zmqPort = await freePort();
    const zmq = `tcp://127.0.0.1:${zmqPort}`;
    const salt = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const hmac = createHmac('sha256', salt).update('hunter2').digest('hex');
    const blocksFile = join(datadir, 'blocks.txt');
    const walletFile = join(datadir, 'wallet.txt');
    writeFileSync(
      join(datadir, 'tally.conf'),
      [
        '# copied from a Bitcoin Core node',
        'server=1',
        'rest=1',
        'txindex=1',
        'blockfilterindex=basic',
        'listen=1',
        `rpcauth=alice:${salt}$${hmac}`,
        'rpcthreads=4',
        'fallbackfee=0.0002',
        'maxmempool=50',
        'dbcache=100',
        'prune=0',
        'persistmempool=1',
        'dnsseed=0',
        'upnp=0',
        'includeconf=notify.conf',
        '[regtest]',
        'connect=0',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(datadir, 'notify.conf'),
      [
        `blocknotify=echo %s >> ${blocksFile}`,
        `walletnotify=echo %s %w %h >> ${walletFile}`,
        ...['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence'].map((t) => `zmqpub${t}=${zmq}`),
        '',
      ].join('\n'),
    );
    const node = await startNode({ datadir });
    assert.match(node.output, /config: connect=0: no outbound connections/);
    // dbcache=100 sizes the coins cache, and the node says so as Core does.
    assert.match(node.output, /Using 100\.0 MiB for in-memory UTXO set/);

    const sub = new Subscriber();
    const msgs: Msg[] = [];
    sub.connect(zmq);
    sub.subscribe();
    const reader = (async () => {
      for await (const [topic, body, seq] of sub)
        msgs.push({ topic: topic.toString(), body, seq: seq.readUInt32LE(0) });
    })().catch(() => undefined);

    try {
      const client = new Client({
        host: `http://127.0.0.1:${node.rpcPort}`,
        username: 'alice',
        password: 'hunter2',
        timeout: 120_000,
      });
      assert.equal(await client.command('getblockcount'), 0);
      const zmqList = await client.command<{ type: string; address: string }[]>('getzmqnotifications');
      assert.deepEqual(zmqList.map((z) => z.type).sort(), [
        'pubhashblock',
        'pubhashtx',
        'pubrawblock',
        'pubrawtx',
        'pubsequence',
      ]);
      // Core's ZMQ sync-up (interface_zmq.py): what is published before the subscription reaches
      // the publisher is lost, so a block is mined and its hashblock awaited for a second, and
      // another block mined until one arrives; from then on every message arrives.
      let base = 0;
      for (let arrived = false; !arrived;) {
        assert.ok(base < 60, 'no ZMQ message after 60 sync-up blocks');
        const [h] = await client.command<string[]>('generatetoaddress', 1, NOBODY);
        base++;
        arrived = await waitFor(
          () => msgs.some((m) => m.topic === 'hashblock' && m.body.toString('hex') === h),
          1_000,
        ).then(
          () => true,
          () => false,
        );
      }
      t.diagnostic(`ZMQ sync-up: ${base} block(s)`);
      await client.command('createwallet', 'w');
      const addr = await client.command<string>('getnewaddress');
      const mined = await client.command<string[]>('generatetoaddress', 101, addr);
      const other = await client.command<string>('getnewaddress');
      const txid = await client.command<string>('sendtoaddress', other, 1);
      // fallbackfee=0.0002 (coins per kB): with no fee estimate the wallet pays 20 base units a
      // byte (its default is 10); maxmempool=50 is the pool's bound; prune=0 keeps every block.
      const paid = await client.command<{ fee: number; hex: string }>('gettransaction', txid);
      const perByte = (-paid.fee * 1e8) / (paid.hex.length / 2);
      assert.ok(perByte >= 19.5 && perByte <= 21, `fee rate ${perByte} a byte`);
      const poolInfo = await client.command<{ maxmempool: number }>('getmempoolinfo');
      assert.equal(poolInfo.maxmempool, 50_000_000);
      assert.equal((await client.command<{ pruned: boolean }>('getblockchaininfo')).pruned, false);
      const [b102] = await client.command<string[]>('generatetoaddress', 1, addr);
      // A reorg: the last block goes, its payment returns to the pool, two blocks replace it.
      await client.command('invalidateblock', b102);
      const replaced = await client.command<string[]>('generatetoaddress', 2, addr);
      const tip = replaced[1];
      assert.equal(await client.command('getbestblockhash'), tip);

      // ZMQ: every topic, contiguous from the sync-up on, with the events in Core's order.
      await waitFor(
        () => msgs.some((m) => m.topic === 'hashblock' && m.body.toString('hex') === tip),
        30_000,
      );
      for (const topic of ['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence']) {
        const seqs = msgs.filter((m) => m.topic === topic).map((m) => m.seq);
        assert.ok(seqs.length > 0, topic);
        assert.deepEqual(
          seqs,
          [...seqs.keys()].map((i) => seqs[0] + i),
          `${topic} sequence numbers contiguous`,
        );
      }
      // Numbered from 0: one hashblock per new tip (as Core's UpdatedBlockTip): the sync-up blocks,
      // 101, b102, its parent again once b102 is invalidated, then the 2 replacing it.
      const tipMsg = msgs.find((m) => m.topic === 'hashblock' && m.body.toString('hex') === tip);
      assert.equal(tipMsg?.seq, base + 101 + 1 + 1 + 2 - 1);
      const seqEvents = msgs
        .filter((m) => m.topic === 'sequence')
        .map((m) => `${String.fromCharCode(m.body[32])}:${m.body.subarray(0, 32).toString('hex')}`);
      for (const h of [...mined, b102, ...replaced]) assert.ok(seqEvents.includes(`C:${h}`), `C:${h}`);
      const idx = (e: string) => seqEvents.indexOf(e);
      assert.ok(idx(`A:${txid}`) < idx(`C:${b102}`), 'payment added before its block');
      assert.ok(idx(`C:${b102}`) < idx(`D:${b102}`), 'block disconnected in the reorg');
      assert.ok(seqEvents.lastIndexOf(`A:${txid}`) > idx(`D:${b102}`), 'payment back in the pool');
      assert.ok(idx(`C:${tip}`) > idx(`D:${b102}`));
      const hashtxs = msgs.filter((m) => m.topic === 'hashtx').map((m) => m.body.toString('hex'));
      assert.ok(hashtxs.includes(txid));
      const rawblock = msgs.filter((m) => m.topic === 'rawblock').at(-1)!;
      assert.equal(rawblock.body.length > 80, true);

      // blocknotify and walletnotify ran.
      await waitFor(() => existsSync(blocksFile) && readFileSync(blocksFile, 'utf8').includes(tip), 30_000);
      const notified = readFileSync(blocksFile, 'utf8');
      assert.ok(notified.includes(mined[100]));
      await waitFor(
        () => existsSync(walletFile) && readFileSync(walletFile, 'utf8').includes(`${txid} w -1`),
        10_000,
      );

      // REST through the client (unauthenticated, on the RPC port).
      const rest = new Client({ host: `http://127.0.0.1:${node.rpcPort}`, timeout: 120_000 });
      const block = await rest.getBlockByHash<{ hash: string; tx: { txid: string }[] }>(tip);
      assert.equal(block.hash, tip);
      assert.equal(typeof block.tx[0].txid, 'string');
      const summary = await rest.getBlockByHash<{ tx: string[] }>(tip, { summary: true });
      assert.equal(typeof summary.tx[0], 'string');
      const bin = await rest.getBlockByHash<Buffer>(tip, { extension: 'bin' });
      assert.equal(bin.toString('hex'), await client.command('getblock', tip, 0));
      const headers = await rest.getBlockHeadersByHash<{ hash: string }[]>(mined[0], 3);
      assert.deepEqual(
        headers.map((h) => h.hash),
        mined.slice(0, 3),
      );
      const info = await rest.getBlockchainInformation<{ blocks: number; chain: string }>();
      assert.equal(info.blocks, base + 103);
      assert.equal(info.chain, 'regtest');
      const pool = await rest.getMemoryPoolInformation<{ size: number }>();
      assert.equal(typeof pool.size, 'number');
      const coinbase = block.tx[0].txid;
      const utxos = await rest.getUnspentTransactionOutputs<{
        bitmap: string;
        utxos: { height: number }[];
        chainHeight: number;
      }>([{ id: coinbase, index: 0 }]);
      assert.equal(utxos.bitmap, '1');
      assert.equal(utxos.utxos[0].height, base + 103);
      // txindex: any confirmed transaction, in the block the reorg put it in.
      await waitFor(async () => {
        const i =
          await client.command<Record<string, { synced: boolean; best_block_height: number }>>(
            'getindexinfo',
          );
        return i.txindex?.synced && i['basic block filter index']?.best_block_height === base + 103;
      }, 30_000);
      const confirmed = await client.command<{
        blockhash: string;
        confirmations: number;
      }>('getrawtransaction', txid, 1);
      assert.equal(confirmed.blockhash, replaced[0]);
      assert.equal(confirmed.confirmations, 2);
      const restCoinbase = await rest.getTransactionByHash<{ txid: string }>(coinbase);
      assert.equal(restCoinbase.txid, coinbase);
      // blockfilterindex: the BIP158 header chain links each block's filter to its parent's.
      const f = await client.command<{ filter: string; header: string }>('getblockfilter', tip);
      const parent = await client.command<{ header: string }>('getblockfilter', replaced[0]);
      const sha256d = (b: Buffer) =>
        createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
      const expected = sha256d(
        Buffer.concat([sha256d(Buffer.from(f.filter, 'hex')), Buffer.from(parent.header, 'hex').reverse()]),
      );
      assert.equal(f.header, expected.reverse().toString('hex'));
      await assert.rejects(client.command('getblockfilter', tip, 'extended'), /Unknown filtertype/);

      const pending = await client.command<string>('sendtoaddress', other, 2);
      const tx = await rest.getTransactionByHash<{ txid: string }>(pending);
      assert.equal(tx.txid, pending);
      const txHex = await rest.getTransactionByHash<string>(pending, { extension: 'hex' });
      assert.equal(txHex.trim(), await client.command('getrawtransaction', pending));
      assert.ok(Object.keys(await rest.getMemoryPoolContent<object>()).includes(pending));
      const res = await fetch(`http://127.0.0.1:${node.rpcPort}/rest/blockhashbyheight/${base + 1}.json`);
      assert.deepEqual(await res.json(), { blockhash: mined[0] });
      const hexHash = await (
        await fetch(`http://127.0.0.1:${node.rpcPort}/rest/blockhashbyheight/${base + 1}.hex`)
      ).text();
      assert.equal(hexHash.trim(), Buffer.from(mined[0], 'hex').reverse().toString('hex'));
      const bad = await fetch(`http://127.0.0.1:${node.rpcPort}/rest/block/${'00'.repeat(32)}.json`);
      assert.equal(bad.status, 404);
      const badHash = await fetch(`http://127.0.0.1:${node.rpcPort}/rest/block/xyz.json`);
      assert.equal(badHash.status, 400);
      const post = await fetch(`http://127.0.0.1:${node.rpcPort}/rest/chaininfo.json`, { method: 'POST' });
      assert.equal(post.status, 405);

      // The indexes survive a restart: synced at once, the same answers.
      await node.restart();
      const again = new Client({
        host: `http://127.0.0.1:${node.rpcPort}`,
        username: 'alice',
        password: 'hunter2',
        timeout: 120_000,
      });
      await waitFor(async () => {
        const i = await again.command<Record<string, { synced: boolean }>>('getindexinfo');
        return i.txindex?.synced === true && i['basic block filter index']?.synced === true;
      }, 30_000);
      const afterRestart = await again.command<{ blockhash: string }>('getrawtransaction', txid, 1);
      assert.equal(afterRestart.blockhash, replaced[0]);
      assert.deepEqual(await again.command('getblockfilter', tip), f);
    } catch (e) {
      console.log(
        'NODE OUTPUT',
        node.output
          .split('\n')
          .filter((l) => /ERROR|WARN/.test(l))
          .join('\n'),
      );
      throw e;
    } finally {
      sub.close();
      await reader;
    }
  },
);

// The explorer in a real browser (issue 17): Debian's chromium driven by playwright-core against a
// real `tally node --explorer 0`. The pages show the figures RPC gives for the same objects (tip,
// difficulty, a block, a transaction with its inputs' previous outputs, an address's balance
// from the address index, the pool), search finds a height, a txid and an address, and a block
// mined while the page is open appears without a reload. Chromium is installed with apt-get when
// missing; where it cannot be, the test is skipped with the reason. TALLY_SCREENSHOTS=DIR saves
// the screenshots docs/explorer.md shows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startNode, stopAll, type TallyProcess } from './cluster.js';
import { RawPeer } from './raw-peer.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const SHOTS = process.env.TALLY_SCREENSHOTS;

/** The browser's path, installing Debian's chromium if it is missing; a reason string if it cannot. */
function findChromium(): string | { skip: string } {
  const have = () => CANDIDATES.find((p) => existsSync(p));
  if (have()) return have()!;
  if (process.getuid?.() !== 0)
    return { skip: 'chromium is not installed and this user cannot apt-get install it' };
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { timeout: 300_000, encoding: 'utf8' });
  if (have()) return have()!;
  return {
    skip: `chromium could not be installed (apt-get: ${(r.stderr || r.error?.message || '').trim().slice(-200)})`,
  };
}

let browser: Browser | null = null;
let skip: string | undefined;
before(async () => {
  const found = findChromium();
  if (typeof found !== 'string') {
    skip = found.skip;
    console.log(`# explorer browser test skipped: ${skip}`);
    return;
  }
  browser = await chromium.launch({ executablePath: found, args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  await stopAll();
});

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent({ timeout: 15_000 }))?.trim() ?? '';
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function search(page: Page, q: string, expectHash: RegExp): Promise<void> {
  await page.fill('#q', q);
  await page.click('#search button');
  await page.waitForFunction(
    (re: string) =>
      new RegExp(re).test((globalThis as unknown as { location: { hash: string } }).location.hash),
    expectHash.source,
    { timeout: 15_000 },
  );
}

test('the explorer shows what RPC shows, searches, and updates live', { timeout: 180_000 }, async (t) => {
  if (skip || !browser) return t.skip(skip);
  const node: TallyProcess = await startNode({ args: ['--explorer', '0'] });
  const url = /explorer=(\S+)/.exec(node.output)?.[1];
  assert.ok(url, `no explorer URL in:\n${node.output}`);
  await node.rpc('createwallet', { wallet_name: 'default' });
  const miner = await node.rpc<string>('getnewaddress');
  const payee = await node.rpc<string>('getnewaddress');
  await node.rpc('generatetoaddress', [101, miner]);
  const paid = await node.rpc<string>('sendtoaddress', [payee, 2.5]);
  await node.rpc('generatetoaddress', [1, miner]);
  const pending = await node.rpc<string>('sendtoaddress', [payee, 1]);

  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(url);
  const height = await node.rpc<number>('getblockcount');
  await page.waitForSelector(`#recent tr[data-height="${height}"]`, { timeout: 20_000 });
  assert.equal(await text(page, '#tip-height'), String(height));
  const difficulty = await node.rpc<number>('getdifficulty');
  assert.equal(await text(page, '#difficulty'), difficulty.toPrecision(6));
  assert.equal(await text(page, '#mempool-size'), '1 tx');
  assert.equal(await page.locator('.chart svg polyline').count(), 2);
  await shot(page, 'home');

  // A block by height: its hash and transaction count as getblock gives them.
  await search(page, '101', /^#\/block\/101$/);
  const block = await node.rpc<{ hash: string; nTx: number; confirmations: number }>('getblock', [
    await node.rpc('getblockhash', [101]),
  ]);
  assert.equal(await text(page, '#block-hash'), block.hash);
  assert.equal(await text(page, '#block-ntx'), String(block.nTx));
  assert.equal(await text(page, '#block-confirmations'), String(block.confirmations));
  await shot(page, 'block');
  // The same block by its hash; a string that is nothing says so.
  await search(page, block.hash, new RegExp(`^#/block/${block.hash}$`));
  assert.equal(await text(page, '#block-ntx'), String(block.nTx));
  const nothing = await fetch(`${url}api/search?q=nothing-here`);
  assert.equal(nothing.status, 404);
  assert.match(await nothing.text(), /no block, transaction or address matches "nothing-here"/);

  // A transaction by txid: its inputs show the outputs they spend.
  await search(page, paid, /^#\/tx\//);
  const tx = await node.rpc<{ confirmations: number; vin: { txid: string; vout: number }[] }>(
    'getrawtransaction',
    [paid, 1],
  );
  assert.equal(await text(page, '#tx-id'), paid);
  assert.equal(await text(page, '#tx-confirmations'), String(tx.confirmations));
  const prev = await node.rpc<{ vout: { value: number; scriptPubKey: { address: string } }[] }>(
    'getrawtransaction',
    [tx.vin[0].txid, 1],
  );
  const spent = prev.vout[tx.vin[0].vout];
  const inputRow = (await text(page, '#tx-inputs tr:nth-child(2)')).replace(/\s+/g, ' ');
  assert.ok(inputRow.includes(spent.scriptPubKey.address), inputRow);
  assert.ok(inputRow.includes(spent.value.toFixed(8)), inputRow);
  await shot(page, 'transaction');

  // An address: its confirmed balance from the address index (the pool payment is not counted).
  await search(page, payee, /^#\/address\//);
  assert.equal(await text(page, '#addr'), payee);
  assert.equal(await text(page, '#addr-balance'), '2.50000000');
  assert.equal(await text(page, '#addr-txcount'), '1');
  await shot(page, 'address');

  await page.goto(`${url}#/mempool`);
  const pool = await node.rpc<{ size: number }>('getmempoolinfo');
  assert.equal(await text(page, '#pool-size'), String(pool.size));
  assert.ok((await text(page, '#pool-txs')).includes(pending));
  await shot(page, 'mempool');

  // Peers: a raw peer connected, the page lists it as getpeerinfo does.
  const peer = await RawPeer.handshake(node.p2pUrl);
  const peerInfo = await node.rpc<{ subver: string }[]>('getpeerinfo');
  await page.goto(`${url}#/peers`);
  await page.waitForSelector('#peer-list');
  assert.equal(await text(page, '#peer-count'), String(peerInfo.length));
  assert.ok((await text(page, '#peer-list')).includes('/raw-peer/'));
  await shot(page, 'peers');
  peer.terminate();

  // Supervision: a double spend of the pool transaction (paying no fee, so refused) is shown.
  const pendingTx = await node.rpc<{ vin: { txid: string; vout: number }[] }>('getrawtransaction', [
    pending,
    1,
  ]);
  const { txid, vout } = pendingTx.vin[0];
  const spentOut = await node.rpc<{ vout: { value: number }[] }>('getrawtransaction', [txid, 1]);
  const raw = await node.rpc<string>('createrawtransaction', [
    [{ txid, vout }],
    [{ [payee]: spentOut.vout[vout].value }],
  ]);
  const signed = await node.rpc<{ hex: string }>('signrawtransactionwithwallet', [raw]);
  await assert.rejects(node.rpc('sendrawtransaction', [signed.hex]));
  await page.goto(url);
  await page.waitForSelector('#alerts li', { timeout: 20_000 });
  assert.match(await text(page, '#alerts'), new RegExp(`double-spend.*${pending}`));
  await page.locator('#alerts').scrollIntoViewIfNeeded();
  await shot(page, 'alerts');

  // A block mined while the front page is open appears in it without a reload.
  await page.goto(url);
  await page.waitForSelector(`#recent tr[data-height="${height}"]`);
  await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
  const [next] = await node.rpc<string[]>('generatetoaddress', [1, miner]);
  await page.waitForSelector(`#recent tr[data-height="${height + 1}"]`, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42);
  assert.ok((await text(page, '#recent')).includes(next));
  await page.close();
});

// The explorer's page: one HTML document, its stylesheet and its script, as text (no build step,
// no framework, nothing fetched from outside the node). The script routes on the URL's hash
// (#/block/ID, #/tx/TXID, #/address/ADDR, #/mempool, #/peers), reads /api/… and draws the charts
// as inline SVG. Every value from the node goes into the page as text (esc), never as markup.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tally explorer</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <a href="#/" class="brand">Tally explorer</a>
  <nav><a href="#/">Chain</a><a href="#/mempool">Mempool</a><a href="#/peers">Peers</a></nav>
  <form id="search"><input id="q" name="q" placeholder="Height, block hash, txid or address" autocomplete="off"><button>Search</button></form>
</header>
<div id="live" class="live">live</div>
<main id="view">Loading…</main>
<footer>Read-only view of this node. Figures come from its RPC methods.</footer>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --accent: #2f6fde; --warn: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; font-size: 17px; color: var(--fg); text-decoration: none; }
nav a { margin-right: 12px; color: var(--accent); text-decoration: none; }
#search { margin-left: auto; display: flex; gap: 6px; }
#q { width: 380px; max-width: 60vw; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
button { padding: 6px 12px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
main { padding: 16px 20px; max-width: 1200px; margin: 0 auto; }
footer { text-align: center; color: var(--muted); padding: 20px; font-size: 12px; }
h1 { font-size: 20px; margin: 4px 0 14px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 18px; font-weight: 600; word-break: break-all; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, monospace; font-size: 12.5px; word-break: break-all; }
a { color: var(--accent); }
dl { display: grid; grid-template-columns: 180px 1fr; gap: 4px 12px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 10px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.chart svg { width: 100%; height: 180px; }
.alerts li { color: var(--warn); margin: 4px 0; }
.error { color: var(--warn); }
.live { position: fixed; right: 12px; bottom: 12px; padding: 3px 8px; border-radius: 10px; background: #d1fadf; color: #05603a; font-size: 12px; }
.live.off { background: #fee4e2; color: var(--warn); }
tr.new { animation: flash 2s; }
@keyframes flash { from { background: #fef0c7; } to { background: transparent; } }
`;

export const PAGE_JS = `'use strict';
const view = document.getElementById('view');
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const link = (kind, id, text) => '<a href="#/' + kind + '/' + encodeURIComponent(id) + '" class="mono">' + esc(text ?? id) + '</a>';
const time = (t) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
/** Difficulty as RPC gives it: 6 significant digits (regtest's is about 4.66e-10). */
const diff = (d) => Number(d).toPrecision(6);
const num = (n, d = 0) => Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function rate(h) {
  const u = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
  let i = 0;
  while (h >= 1000 && i < u.length - 1) { h /= 1000; i++; }
  return num(h, 2) + ' ' + u[i];
}
async function api(path) {
  const r = await fetch('/api/' + path);
  if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
  return r.json();
}
const card = (id, k, v) => '<div class="card"><div class="k">' + esc(k) + '</div><div class="v" id="' + id + '">' + v + '</div></div>';

function lineChart(points, key, title, fmt) {
  const W = 600, H = 180, L = 8, R = 8, T = 22, B = 18;
  const vals = points.map((p) => p[key]);
  if (vals.length < 2) return '<div class="chart"><b>' + esc(title) + '</b><p>Not enough blocks yet.</p></div>';
  const min = Math.min(...vals), max = Math.max(...vals);
  // A flat series is drawn across the middle.
  const lo = max === min ? min - 1 : min, hi = max === min ? max + 1 : max;
  const x = (i) => L + (i * (W - L - R)) / (vals.length - 1);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const path = vals.map((v, i) => x(i).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
  const first = points[0].height, last = points[points.length - 1].height;
  return '<div class="chart" data-chart="' + esc(key) + '"><svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(title) + '">' +
    '<text x="' + L + '" y="14" font-size="13" font-weight="600">' + esc(title) + '</text>' +
    '<text x="' + (W - R) + '" y="14" font-size="11" text-anchor="end" fill="#667085">max ' + esc(fmt(max)) + ' · min ' + esc(fmt(min)) + '</text>' +
    '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + (W - R) + '" y2="' + (H - B) + '" stroke="#e4e7ec"/>' +
    '<polyline fill="none" stroke="#2f6fde" stroke-width="1.6" points="' + path + '"/>' +
    '<text x="' + L + '" y="' + (H - 4) + '" font-size="11" fill="#667085">height ' + first + '</text>' +
    '<text x="' + (W - R) + '" y="' + (H - 4) + '" font-size="11" text-anchor="end" fill="#667085">' + last + '</text>' +
    '</svg></div>';
}

let lastTip = null;
async function home(fresh) {
  const [s, c] = await Promise.all([api('summary'), api('chart?blocks=200')]);
  lastTip = s.chain.blocks;
  const alerts = s.alerts.length
    ? '<h2>Supervision alerts</h2><ul class="alerts" id="alerts">' + s.alerts.slice(0, 20).map((a) => '<li>' + esc(time(a.time)) + ' <b>' + esc(a.event) + '</b>: ' + esc(a.message) + '</li>').join('') + '</ul>'
    : '';
  view.innerHTML = '<h1>' + esc(s.chain.chain) + ' chain</h1><div class="cards">' +
    card('tip-height', 'Height', link('block', s.chain.bestblockhash, num(s.chain.blocks))) +
    card('difficulty', 'Difficulty', esc(diff(s.chain.difficulty))) +
    card('hashrate', 'Network hash rate', esc(rate(s.mining.networkhashps))) +
    card('mempool-size', 'Mempool', esc(num(s.mempool.size)) + ' tx') +
    card('connections', 'Peers', esc(num(s.connections))) +
    card('headers', 'Headers', esc(num(s.chain.headers))) +
    '</div>' + alerts +
    '<h2>Difficulty and hash rate</h2><div class="charts">' +
    lineChart(c.points, 'difficulty', 'Difficulty', diff) +
    lineChart(c.points, 'hashrate', 'Hash rate (12-block window)', rate) + '</div>' +
    '<h2>Recent blocks</h2><table id="recent"><tr><th>Height</th><th>Hash</th><th>Time</th><th class="num">Transactions</th><th class="num">Size</th></tr>' +
    s.recent.map((b, i) => '<tr data-height="' + b.height + '"' + (fresh && i === 0 ? ' class="new"' : '') + '><td>' + link('block', b.height, b.height) + '</td><td>' + link('block', b.hash) + '</td><td>' + esc(time(b.time)) + '</td><td class="num">' + b.txs + '</td><td class="num">' + num(b.size) + '</td></tr>').join('') + '</table>';
}

async function block(id) {
  const b = await api('block/' + encodeURIComponent(id));
  view.innerHTML = '<h1>Block <span id="block-height">' + esc(b.height) + '</span></h1><dl>' +
    '<dt>Hash</dt><dd class="mono" id="block-hash">' + esc(b.hash) + '</dd>' +
    '<dt>Confirmations</dt><dd id="block-confirmations">' + esc(b.confirmations) + '</dd>' +
    '<dt>Time</dt><dd>' + esc(time(b.time)) + '</dd>' +
    '<dt>Transactions</dt><dd id="block-ntx">' + esc(b.nTx) + '</dd>' +
    '<dt>Size</dt><dd id="block-size">' + esc(b.size) + ' bytes</dd>' +
    '<dt>Difficulty</dt><dd>' + esc(diff(b.difficulty)) + '</dd>' +
    '<dt>Bits / nonce</dt><dd class="mono">' + esc(b.bits) + ' / ' + esc(b.nonce) + '</dd>' +
    '<dt>Merkle root</dt><dd class="mono">' + esc(b.merkleroot) + '</dd>' +
    '<dt>Previous</dt><dd>' + (b.previousblockhash ? link('block', b.previousblockhash) : '—') + '</dd>' +
    '<dt>Next</dt><dd>' + (b.nextblockhash ? link('block', b.nextblockhash) : '—') + '</dd></dl>' +
    '<h2>Transactions</h2><table id="block-txs"><tr><th>Txid</th><th class="num">Outputs</th><th class="num">Total out</th></tr>' +
    b.tx.map((t) => '<tr><td>' + link('tx', t.txid) + '</td><td class="num">' + t.vout.length + '</td><td class="num">' + esc(t.vout.reduce((s, o) => s + o.value, 0).toFixed(8)) + '</td></tr>').join('') + '</table>';
}

async function tx(id) {
  const t = await api('tx/' + encodeURIComponent(id));
  const addr = (a) => (a ? link('address', a) : '<span class="mono">(no address)</span>');
  const ins = t.vin.map((i, n) => {
    if (i.coinbase !== undefined) return '<tr><td colspan="3">Coinbase <span class="mono">' + esc(i.coinbase) + '</span></td></tr>';
    const p = t.prevouts[n];
    return '<tr><td>' + link('tx', i.txid, i.txid + ':' + i.vout) + '</td><td>' + (p ? addr(p.address) : '?') + '</td><td class="num">' + (p ? esc(p.value.toFixed(8)) : '?') + '</td></tr>';
  }).join('');
  const outs = t.vout.map((o) => '<tr><td>' + o.n + '</td><td>' + addr(o.scriptPubKey.address) + '</td><td class="num">' + esc(o.value.toFixed(8)) + '</td></tr>').join('');
  view.innerHTML = '<h1>Transaction</h1><dl><dt>Txid</dt><dd class="mono" id="tx-id">' + esc(t.txid) + '</dd>' +
    '<dt>Block</dt><dd>' + (t.blockhash ? link('block', t.blockhash) : 'in the mempool') + '</dd>' +
    '<dt>Confirmations</dt><dd id="tx-confirmations">' + esc(t.confirmations ?? 0) + '</dd>' +
    '<dt>Size</dt><dd>' + esc(t.size) + ' bytes</dd></dl>' +
    '<h2>Inputs</h2><table id="tx-inputs"><tr><th>Previous output</th><th>Address</th><th class="num">Value</th></tr>' + ins + '</table>' +
    '<h2>Outputs</h2><table id="tx-outputs"><tr><th>#</th><th>Address</th><th class="num">Value</th></tr>' + outs + '</table>';
}

async function address(a) {
  const p = await api('address/' + encodeURIComponent(a));
  view.innerHTML = '<h1>Address</h1><dl><dt>Address</dt><dd class="mono" id="addr">' + esc(p.address) + '</dd>' +
    '<dt>Balance</dt><dd id="addr-balance">' + esc(p.balance) + '</dd>' +
    '<dt>Received</dt><dd>' + esc(p.received) + '</dd><dt>Spent</dt><dd>' + esc(p.spent) + '</dd>' +
    '<dt>Transactions</dt><dd id="addr-txcount">' + esc(p.txCount) + '</dd>' +
    (p.synced ? '' : '<dt>Index</dt><dd class="error">still being built: figures may lag</dd>') + '</dl>' +
    '<h2>History</h2><table id="addr-history"><tr><th>Height</th><th>Txid</th><th class="num">Received</th><th class="num">Spent</th></tr>' +
    p.history.map((h) => '<tr><td>' + link('block', h.blockHash, h.height) + '</td><td>' + link('tx', h.txid) + '</td><td class="num">' + esc(h.received) + '</td><td class="num">' + esc(h.spent) + '</td></tr>').join('') + '</table>';
}

async function mempool() {
  const m = await api('mempool');
  view.innerHTML = '<h1>Mempool</h1><div class="cards">' + card('pool-size', 'Transactions', esc(num(m.info.size))) +
    card('pool-bytes', 'Bytes', esc(num(m.info.bytes))) + card('pool-min', 'Min fee rate', esc(m.info.mempoolminfee) + ' /kB') + '</div>' +
    '<h2>Newest</h2><table id="pool-txs"><tr><th>Txid</th><th>Since</th><th class="num">Size</th><th class="num">Fee</th></tr>' +
    m.txs.map((t) => '<tr><td>' + link('tx', t.txid) + '</td><td>' + esc(time(t.time)) + '</td><td class="num">' + t.size + '</td><td class="num">' + esc(t.fee.toFixed(8)) + '</td></tr>').join('') + '</table>';
}

async function peers() {
  const p = await api('peers');
  view.innerHTML = '<h1>Peers</h1><div class="cards">' + card('peer-count', 'Connected', esc(p.peers.length)) +
    card('bytes-recv', 'Received', esc(num(p.totals.totalbytesrecv)) + ' B') + card('bytes-sent', 'Sent', esc(num(p.totals.totalbytessent)) + ' B') + '</div>' +
    '<h2>Connections</h2><table id="peer-list"><tr><th>Address</th><th>Direction</th><th>Agent</th><th class="num">Height</th><th class="num">Received</th><th class="num">Sent</th></tr>' +
    p.peers.map((x) => '<tr><td class="mono">' + esc(x.addr) + '</td><td>' + (x.inbound ? 'inbound' : 'outbound') + '</td><td>' + esc(x.subver) + '</td><td class="num">' + esc(x.synced_blocks ?? x.startingheight) + '</td><td class="num">' + esc(num(x.bytesrecv)) + '</td><td class="num">' + esc(num(x.bytessent)) + '</td></tr>').join('') + '</table>';
}

async function route(fresh) {
  const parts = location.hash.replace(/^#\\/?/, '').split('/');
  const [page, id] = [parts[0], decodeURIComponent(parts.slice(1).join('/'))];
  try {
    if (page === 'block') await block(id);
    else if (page === 'tx') await tx(id);
    else if (page === 'address') await address(id);
    else if (page === 'mempool') await mempool();
    else if (page === 'peers') await peers();
    else await home(fresh);
  } catch (e) {
    view.innerHTML = '<p class="error" id="error">' + esc(e.message) + '</p>';
  }
}

document.getElementById('search').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim();
  if (!q) return;
  try {
    const r = await api('search?q=' + encodeURIComponent(q));
    location.hash = '#/' + r.kind + '/' + encodeURIComponent(r.id);
  } catch (e) {
    view.innerHTML = '<p class="error" id="error">' + esc(e.message) + '</p>';
  }
});
window.addEventListener('hashchange', () => route(false));
const live = document.getElementById('live');
const events = new EventSource('/api/events');
events.addEventListener('open', () => live.classList.remove('off'));
events.addEventListener('error', () => live.classList.add('off'));
events.addEventListener('tip', () => {
  const page = location.hash.replace(/^#\\/?/, '').split('/')[0];
  if (page === '' || page === 'mempool') route(true);
});
route(false);
`;

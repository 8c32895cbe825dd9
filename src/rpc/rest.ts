// Bitcoin Core's REST interface (doc/REST-interface.md), served on the RPC port when `rest=1`:
// unauthenticated, read-only, GET only. Owns the URL grammar, the .json/.bin/.hex formats and
// Core's HTTP statuses and texts. Does not own any data: every answer comes from the RPC methods
// of the same node (called in-process), so REST and RPC cannot disagree. Fails with an HTTP
// status and one line of text (400 bad request, 404 not found, 503 while warming up).
import { RpcCode, RpcError } from './errors.js';
import { stringifyJson } from './json.js';

/** Core's MAX_REST_HEADERS_RESULTS and MAX_GETUTXOS_OUTPOINTS. */
export const MAX_REST_HEADERS = 2000;
export const MAX_GETUTXOS_OUTPOINTS = 15;
/** Core's MEMPOOL_HEIGHT: the height a pool output reports. */
const MEMPOOL_HEIGHT = 0x7fffffff;

export interface RestReply {
  status: number;
  type: string;
  body: string | Uint8Array;
}

export type RestCall = (method: string, params: unknown[]) => Promise<unknown>;

type Format = 'json' | 'bin' | 'hex';
const FORMATS = ['json', 'bin', 'hex'];

class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const text = (status: number, body: string): RestReply => ({
  status,
  type: 'text/plain',
  body: body + '\r\n',
});

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function reply(format: Format, data: { json?: unknown; hex?: string }): RestReply {
  if (format === 'json') {
    if (data.json === undefined) throw new RestError(404, 'output format not found (available: .bin, .hex)');
    return { status: 200, type: 'application/json', body: stringifyJson(data.json) + '\n' };
  }
  if (data.hex === undefined) throw new RestError(404, 'output format not found (available: .json)');
  if (format === 'hex') return { status: 200, type: 'text/plain', body: data.hex + '\n' };
  return { status: 200, type: 'application/octet-stream', body: hexBytes(data.hex) };
}

function checkHash(h: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new RestError(400, `Invalid hash: ${h}`);
  return h.toLowerCase();
}

function reverseHexString(h: string): string {
  return Buffer.from(h, 'hex').reverse().toString('hex');
}

function compactSize(n: number): string {
  if (n < 0xfd) return n.toString(16).padStart(2, '0');
  const b = Buffer.alloc(3);
  b[0] = 0xfd;
  b.writeUInt16LE(n, 1);
  return b.toString('hex');
}

function le(n: number | bigint, bytes: 4 | 8): string {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeUInt32LE(Number(n) >>> 0);
  else b.writeBigInt64LE(BigInt(n));
  return b.toString('hex');
}

/** Answers one REST path (with its query string); `call` runs an RPC method of this node. */
export async function handleRest(url: string, call: RestCall): Promise<RestReply> {
  try {
    return await route(url, call);
  } catch (e) {
    if (e instanceof RestError) return text(e.status, e.message);
    if (e instanceof RpcError) {
      if (e.code === RpcCode.IN_WARMUP) return text(503, `Service temporarily unavailable: ${e.message}`);
      if (e.code === RpcCode.INVALID_ADDRESS_OR_KEY) return text(404, e.message);
      return text(400, e.message);
    }
    throw e;
  }
}

async function route(url: string, call: RestCall): Promise<RestReply> {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  const ext = dot > slash ? path.slice(dot + 1) : '';
  const base = dot > slash ? path.slice(0, dot) : path;
  if (!FORMATS.includes(ext))
    throw new RestError(404, 'output format not found (available: .bin, .hex, .json)');
  const format = ext as Format;
  const parts = base.split('/').slice(2); // '', 'rest', ...
  const [what, ...args] = parts;

  switch (what) {
    case 'tx': {
      const txid = checkHash(args.join('/'));
      if (format === 'json') return reply(format, { json: await call('getrawtransaction', [txid, true]) });
      return reply(format, { hex: String(await call('getrawtransaction', [txid, false])) });
    }
    case 'block': {
      const notx = args[0] === 'notxdetails';
      const hash = checkHash((notx ? args.slice(1) : args).join('/'));
      if (format === 'json') return reply(format, { json: await call('getblock', [hash, notx ? 1 : 2]) });
      return reply(format, { hex: String(await call('getblock', [hash, 0])) });
    }
    case 'headers': {
      // /rest/headers/<hash>?count=N, or the older /rest/headers/<count>/<hash>.
      let countText: string;
      let hash: string;
      if (args.length === 2) [countText, hash] = args;
      else [hash, countText] = [args[0] ?? '', query.get('count') ?? '5'];
      const count = Number(countText);
      if (!/^\d+$/.test(countText) || count < 1 || count > MAX_REST_HEADERS)
        throw new RestError(
          400,
          `Header count is invalid or out of acceptable range (1-${MAX_REST_HEADERS}): ${countText}`,
        );
      checkHash(hash);
      const headers: Record<string, unknown>[] = [];
      let next: string | undefined = hash;
      while (next !== undefined && headers.length < count) {
        let h: Record<string, unknown>;
        try {
          h = (await call('getblockheader', [next, true])) as Record<string, unknown>;
        } catch (e) {
          if (e instanceof RpcError && e.code === RpcCode.INVALID_ADDRESS_OR_KEY && headers.length === 0)
            break;
          throw e;
        }
        // Core walks the active chain only: a header off it ends the list.
        if ((h.confirmations as number) < 0) break;
        headers.push(h);
        next = h.nextblockhash as string | undefined;
      }
      if (format === 'json') return reply(format, { json: headers });
      let hex = '';
      for (const h of headers) hex += String(await call('getblockheader', [h.hash, false]));
      return reply(format, { hex });
    }
    case 'blockhashbyheight': {
      const hText = args.join('/');
      const height = Number(hText);
      if (!/^\d+$/.test(hText) || !Number.isSafeInteger(height))
        throw new RestError(400, `Invalid height: ${hText}`);
      let hash: string;
      try {
        hash = String(await call('getblockhash', [height]));
      } catch (e) {
        if (e instanceof RpcError) throw new RestError(404, 'Block height out of range');
        throw e;
      }
      return reply(format, { json: { blockhash: hash }, hex: reverseHexString(hash) });
    }
    case 'chaininfo':
      if (args.length) break;
      if (format !== 'json') throw new RestError(404, 'output format not found (available: json)');
      return reply(format, { json: await call('getblockchaininfo', []) });
    case 'mempool': {
      if (format !== 'json') throw new RestError(404, 'output format not found (available: json)');
      if (args.join('/') === 'info') return reply(format, { json: await call('getmempoolinfo', []) });
      if (args.join('/') === 'contents') {
        const verbose = query.get('verbose') !== 'false';
        return reply(format, { json: await call('getrawmempool', [verbose]) });
      }
      break;
    }
    case 'getutxos':
      return getUtxos(args, format, call);
  }
  throw new RestError(404, 'Not found');
}

async function getUtxos(args: string[], format: Format, call: RestCall): Promise<RestReply> {
  const checkMempool = args[0] === 'checkmempool';
  const specs = checkMempool ? args.slice(1) : args;
  if (specs.length === 0 || specs.some((s) => s === '')) throw new RestError(400, 'Error: empty request');
  if (specs.length > MAX_GETUTXOS_OUTPOINTS)
    throw new RestError(
      400,
      `Error: max outpoints exceeded (max: ${MAX_GETUTXOS_OUTPOINTS}, tried: ${specs.length})`,
    );
  const outpoints = specs.map((s) => {
    const m = /^([0-9a-fA-F]{64})-(\d{1,10})$/.exec(s);
    if (!m || Number(m[2]) > 0xffffffff) throw new RestError(400, 'Parse error');
    return { txid: m[1].toLowerCase(), n: Number(m[2]) };
  });
  const info = (await call('getblockchaininfo', [])) as { blocks: number; bestblockhash: string };
  const found: { height: number; value: number; scriptPubKey: Record<string, unknown> }[] = [];
  const hits: boolean[] = [];
  for (const o of outpoints) {
    const r = (await call('gettxout', [o.txid, o.n, checkMempool])) as {
      confirmations: number;
      value: number;
      scriptPubKey: Record<string, unknown>;
    } | null;
    hits.push(r !== null);
    if (r)
      found.push({
        height: r.confirmations === 0 ? MEMPOOL_HEIGHT : info.blocks - r.confirmations + 1,
        value: r.value,
        scriptPubKey: r.scriptPubKey,
      });
  }
  const bitmapBytes = new Uint8Array(Math.ceil(hits.length / 8));
  hits.forEach((h, i) => {
    if (h) bitmapBytes[i >> 3] |= 1 << (i & 7);
  });
  if (format === 'json')
    return reply(format, {
      json: {
        chainHeight: info.blocks,
        chaintipHash: info.bestblockhash,
        bitmap: hits.map((h) => (h ? '1' : '0')).join(''),
        utxos: found,
      },
    });
  // Core's serialization: height, tip hash, bitmap bytes, then each CCoin (version placeholder,
  // height, value, script).
  let hex = le(info.blocks, 4) + reverseHexString(info.bestblockhash);
  hex += compactSize(bitmapBytes.length) + Buffer.from(bitmapBytes).toString('hex');
  hex += compactSize(found.length);
  for (const c of found) {
    const script = String(c.scriptPubKey.hex);
    hex += le(0, 4) + le(c.height, 4) + le(BigInt(Math.round(c.value * 1e8)), 8);
    hex += compactSize(script.length / 2) + script;
  }
  return reply(format, { hex });
}

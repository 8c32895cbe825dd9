// Helpers for RPC tests: raw HTTP (status codes and bodies the client hides) and the check of an
// RpcError's code and message.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { getPublicKey } from '@noble/secp256k1';
import fc from 'fast-check';
import * as wif from 'wif';
import { getParams } from '../../src/consensus/params.js';
import { hash160 } from '../../src/crypto/hash.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { bytesToHex } from '../../src/primitives/bytes.js';
import { RpcError } from '../../src/rpc/errors.js';
import { startNode, type TallyProcess } from '../integration/cluster.js';

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function rawPost(
  port: number,
  body: string | Buffer,
  auth: string | null,
  extraHeaders: Record<string, string> = {},
  method = 'POST',
): Promise<RawReply> {
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', ...extraHeaders };
  if (auth !== null) headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Request bodies a careless or hostile client might send: random JSON, random text, and single
 * requests or batches naming `methods` (or random names) with random params and ids.
 */
/**
 * Random parameters for an RPC call: a short positional array, or named parameters mixing the
 * method's real names with random keys of up to `keyLength` characters.
 */
export function randomRpcParams(
  value: fc.Arbitrary<unknown>,
  names: readonly string[],
  keyLength = 12,
): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.array(value, { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: keyLength })), value, {
      maxKeys: 4,
    }),
  );
}

export function randomRpcBodies(
  methods: readonly string[],
  params: fc.Arbitrary<unknown> = fc.jsonValue(),
): fc.Arbitrary<string> {
  return fc.oneof(
    fc.json(),
    fc.string(),
    fc
      .array(
        fc.record(
          {
            jsonrpc: fc.constantFrom('2.0', '1.0', 2, undefined),
            method: fc.oneof(
              fc.constantFrom(...methods, '__proto__', 'constructor'),
              fc.string(),
              fc.integer(),
            ),
            params: fc.oneof(params, fc.constant(undefined)),
            id: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
      )
      .map((a) => JSON.stringify(a.length === 1 ? a[0] : a)),
  );
}

/**
 * For assert.rejects: the error is an RpcError of this code and, if given, a message matching the
 * pattern (a string must equal the message).
 */
export const rpcCode = (c: number, message?: RegExp | string) => (e: unknown) =>
  e instanceof RpcError &&
  e.code === c &&
  (message === undefined || (typeof message === 'string' ? e.message === message : message.test(e.message)));

/** A key drawn here, its WIF written by the `wif` package, its address from noble's public key. */
export function independentKey(): { sk: Uint8Array; wif: string; address: string; pubkey: string } {
  const prefixes = getParams('regtest').prefixes;
  for (;;) {
    const sk = new Uint8Array(randomBytes(32));
    let pub: Uint8Array;
    try {
      pub = getPublicKey(sk, true);
    } catch {
      continue;
    }
    return {
      sk,
      wif: wif.encode({ version: prefixes.wif, privateKey: sk, compressed: true }),
      address: encodeAddress('pubkeyhash', hash160(pub), prefixes),
      pubkey: bytesToHex(pub),
    };
  }
}

export type JsonType = 'number' | 'string' | 'boolean' | 'array' | 'object' | 'null';
/** Field -> JSON type, as Core's RPC help documents a result; a trailing ? marks a field Core prints only sometimes. */
export type CoreShape = Record<string, JsonType>;

export function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}

/** The object has exactly Core's fields (optional ones may be absent), each of Core's type. */
export function assertCoreShape(v: unknown, shape: CoreShape, name: string): void {
  assert.equal(jsonType(v), 'object', `${name}: an object`);
  const obj = v as Record<string, unknown>;
  for (const [k, t] of Object.entries(shape)) {
    const key = k.replace(/\?$/, '');
    if (!(key in obj)) {
      assert.ok(k.endsWith('?'), `${name}: missing ${key}`);
      continue;
    }
    assert.equal(jsonType(obj[key]), t, `${name}.${key}`);
  }
  const known = new Set(Object.keys(shape).map((k) => k.replace(/\?$/, '')));
  for (const k of Object.keys(obj)) assert.ok(known.has(k), `${name}: ${k} is not a Core field`);
}

/** A regtest node without peers whose wallet "w" holds 101 blocks' coinbases (50 coins spendable). */
export async function startFundedNode(): Promise<{ node: TallyProcess; walletAddress: string }> {
  const node = await startNode({ args: ['--connect', '0'] });
  await node.rpc('createwallet', ['w']);
  const walletAddress = await node.rpc<string>('getnewaddress');
  await node.rpc('generatetoaddress', [101, walletAddress]);
  return { node, walletAddress };
}

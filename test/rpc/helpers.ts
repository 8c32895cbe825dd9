// Helpers for RPC tests: raw HTTP (status codes and bodies the client hides) and the check of an
// RpcError's code and message.
import http from 'node:http';
import fc from 'fast-check';
import { RpcError } from '../../src/rpc/errors.js';

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

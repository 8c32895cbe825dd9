// RPC parameters as untrusted input: every ParamReader accessor on any JSON value (and on missing
// ones) returns a value of its type or throws an RpcError with Core's code (-3 wrong type, -8
// out of range, MissingParamError (-1, which the server turns into the usage) for a missing one)
// naming the parameter, never another exception; amounts parse exactly or fail with -3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_MONEY, formatCoins, parseCoins } from '../../src/rpc/amount.js';
import { RpcError } from '../../src/rpc/errors.js';
import { MissingParamError, ParamReader } from '../../src/rpc/params.js';

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(undefined, null, 0, -0, 1e-9, 2 ** 53, -(2 ** 53), 1e21, '0', '1e-8', 'ab', 'AB', '', '00'),
);

function typedOr<T>(fn: () => T, check: (v: T) => boolean, name: string): void {
  let v: T;
  try {
    v = fn();
  } catch (e) {
    assert.ok(e instanceof RpcError, `expected RpcError, got ${String(e)}`);
    assert.ok(e.code === -3 || e.code === -8 || e instanceof MissingParamError, `code ${e.code}`);
    assert.ok(e.message.includes(name) || /^(Invalid amount|Amount)/.test(e.message), e.message);
    return;
  }
  // No String(v) here: a JSON object may carry its own "toString": null.
  assert.ok(
    check(v),
    `accessor returned ${JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))}`,
  );
}

test('ParamReader: every accessor on any JSON value gives its type or an RpcError naming the parameter', () => {
  fc.assert(
    fc.property(value, fc.integer({ min: -10, max: 10 }), fc.integer({ min: 0, max: 40 }), (v, min, len) => {
      const p = new ParamReader([v], ['thing']);
      const isInt = (n: number) => Number.isSafeInteger(n);
      typedOr(
        () => p.string(0),
        (s) => typeof s === 'string',
        'thing',
      );
      typedOr(
        () => p.optString(0),
        (s) => s === undefined || typeof s === 'string',
        'thing',
      );
      typedOr(() => p.int(0), isInt, 'thing');
      typedOr(
        () => p.int(0, min, min + 5),
        (n) => isInt(n) && n >= min && n <= min + 5,
        'thing',
      );
      typedOr(
        () => p.optInt(0, 7, 0, 100),
        (n) => isInt(n) && n >= 0 && n <= 100,
        'thing',
      );
      typedOr(
        () => p.number(0),
        (n) => Number.isFinite(n),
        'thing',
      );
      typedOr(
        () => p.bool(0),
        (b) => typeof b === 'boolean',
        'thing',
      );
      typedOr(
        () => p.optBool(0, false),
        (b) => typeof b === 'boolean',
        'thing',
      );
      typedOr(
        () => p.amount(0),
        (a) => a >= 0n && a <= MAX_MONEY,
        'thing',
      );
      typedOr(
        () => p.hex(0),
        (h) => /^([0-9a-f]{2})*$/.test(h),
        'thing',
      );
      typedOr(
        () => p.hex(0, len),
        (h) => h.length === 2 * len,
        'thing',
      );
      typedOr(
        () => p.object(0),
        (o) => o !== null && typeof o === 'object' && !Array.isArray(o),
        'thing',
      );
      typedOr(
        () => p.array(0),
        (a) => Array.isArray(a),
        'thing',
      );
      // A parameter past the end is missing: MissingParamError (-1), named by position.
      assert.throws(
        () => new ParamReader([v]).string(3),
        (e: unknown) => e instanceof MissingParamError && e.code === -1 && /#4/.test(e.message),
      );
    }),
    { numRuns: 400 },
  );
});

test('amounts: any JSON value or text parses to base units in range, exactly, or fails with -3', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        value,
        fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '-', 'e', 'E', '+', ' '), maxLength: 14 }),
        fc.double({ noNaN: false }),
      ),
      (v) => {
        let sats: bigint;
        try {
          sats = parseCoins(v);
        } catch (e) {
          assert.ok(e instanceof RpcError && e.code === -3, String(e));
          return;
        }
        assert.ok(sats >= 0n && sats <= MAX_MONEY);
        // Exact: the decimal text of the value (numbers via their shortest form) is the amount.
        assert.equal(parseCoins(formatCoins(sats)), sats);
        if (typeof v === 'number') assert.equal(Number(formatCoins(sats)), v === 0 ? 0 : v);
      },
    ),
    { numRuns: 500 },
  );
});

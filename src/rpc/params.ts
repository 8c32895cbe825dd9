// Parameter checks for RPC handlers. Errors name the parameter: -3 (RPC_TYPE_ERROR) for a value
// of the wrong JSON type, -8 (RPC_INVALID_PARAMETER) for an out-of-range one, and a missing one is
// MissingParamError, which the server answers as Core does: -1 with the method's help text.
import { parseFixedAmount } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import type { RpcContext, RpcServer } from './server.js';

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** A required parameter is absent: the server answers -1 with the method's help, as Core. */
export class MissingParamError extends RpcError {
  constructor(readonly param: string) {
    super(RpcCode.MISC_ERROR, `Missing required parameter ${param}`);
  }
}

export class ParamReader {
  constructor(
    private readonly values: unknown[],
    private readonly names: readonly string[] = [],
  ) {}

  private name(i: number): string {
    return this.names[i] ?? `#${i + 1}`;
  }

  /** The JSON type of a parameter: null, array, object, string, number or boolean. */
  kind(i: number): string {
    return jsonType(this.values[i]);
  }

  /** A parameter as given, unchecked (passed on into an options object). */
  value(i: number): unknown {
    return this.values[i];
  }

  has(i: number): boolean {
    return this.values[i] !== undefined && this.values[i] !== null;
  }

  private typeError(i: number, expected: string): RpcError {
    return new RpcError(
      RpcCode.TYPE_ERROR,
      `JSON value of type ${jsonType(this.values[i])} for parameter ${this.name(i)} is not of expected type ${expected}`,
    );
  }

  invalid(i: number, why: string): RpcError {
    return new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter ${this.name(i)}: ${why}`);
  }

  private required(i: number): unknown {
    if (!this.has(i)) throw new MissingParamError(this.name(i));
    return this.values[i];
  }

  string(i: number): string {
    const v = this.required(i);
    if (typeof v !== 'string') throw this.typeError(i, 'string');
    return v;
  }

  optString(i: number): string | undefined {
    return this.has(i) ? this.string(i) : undefined;
  }

  int(i: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.required(i);
    if (typeof v !== 'number') throw this.typeError(i, 'number');
    if (!Number.isSafeInteger(v)) throw this.invalid(i, 'expected an integer');
    if (v < min || v > max) throw this.invalid(i, `expected ${min}..${max}, got ${v}`);
    return v;
  }

  optInt(i: number, fallback: number, min?: number, max?: number): number {
    return this.has(i) ? this.int(i, min, max) : fallback;
  }

  number(i: number): number {
    const v = this.required(i);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.typeError(i, 'number');
    return v;
  }

  bool(i: number): boolean {
    const v = this.required(i);
    if (typeof v !== 'boolean') throw this.typeError(i, 'bool');
    return v;
  }

  optBool(i: number, fallback: boolean): boolean {
    return this.has(i) ? this.bool(i) : fallback;
  }

  /** An amount in coins (number or string, at most 8 decimals) -> base units. */
  amount(i: number): bigint {
    return this.fixed(i, 8);
  }

  /**
   * Core's AmountFromValue(value, decimals) on a parameter: a number or numeric string with at
   * most `decimals` places, in units of 10^-decimals (fee_rate in sat/vB reads as sat/kvB with 3).
   */
  fixed(i: number, decimals: number): bigint {
    const v = this.required(i);
    try {
      return parseFixedAmount(v, decimals);
    } catch (e) {
      if (e instanceof RpcError) throw new RpcError(e.code, `${e.message} (parameter ${this.name(i)})`);
      throw e;
    }
  }

  hex(i: number, byteLength?: number): string {
    const v = this.string(i);
    if (v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) throw this.invalid(i, 'must be hexadecimal string');
    if (byteLength !== undefined && v.length !== byteLength * 2)
      throw this.invalid(i, `must be of length ${byteLength * 2} (not ${v.length})`);
    return v.toLowerCase();
  }

  object(i: number): Record<string, unknown> {
    const v = this.required(i);
    if (jsonType(v) !== 'object') throw this.typeError(i, 'object');
    return v as Record<string, unknown>;
  }

  array(i: number): unknown[] {
    const v = this.required(i);
    if (!Array.isArray(v)) throw this.typeError(i, 'array');
    return v;
  }
}

export type ReaderHandler = (r: ParamReader, raw: unknown[], ctx: RpcContext) => unknown;

/**
 * The `reg(name, paramNames, help, handler)` every method file uses: registers the method with its
 * parameter names (for named parameters and help) and hands the handler a ParamReader over them.
 */
export function methodRegistrar(
  server: RpcServer,
): (name: string, names: readonly string[], help: string, fn: ReaderHandler) => void {
  return (name, names, help, fn) =>
    server.register(name, (p, ctx) => fn(new ParamReader(p, names), p, ctx), { params: names, help });
}

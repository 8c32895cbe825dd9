// The parameter parsers the raw-transaction methods share (Core's ParseHexV, DecodeHexTx and
// ParseHashO wording). Owns nothing else. Fails with RpcError: -22 undecodable, -8 not hex or the
// wrong length, -3 the wrong type.
import { hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import { RpcCode, RpcError } from './errors.js';

export function decodeTx(hex: string, message = 'TX decode failed'): Tx {
  try {
    return Tx.decode(hexToBytes(hex));
  } catch {
    throw new RpcError(RpcCode.DESERIALIZATION_ERROR, message);
  }
}

/** A hex parameter in Core's ParseHexV wording (-8). */
export function hexParam(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value))
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `${name} must be hexadecimal string (not '${String(value)}')`,
    );
  return hexToBytes(value);
}

/** A txid field of an object parameter: 64 hex digits, display order (-3, -8). */
export function hashField(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw new RpcError(RpcCode.TYPE_ERROR, `${name} must be a string`);
  if (value.length !== 64)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${value.length}, for '${value}')`,
    );
  return hexParam(value, name).reverse();
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

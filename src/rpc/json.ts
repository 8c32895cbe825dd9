// JSON writing for RPC replies: amounts as exact 8-decimal numbers (JsonAmount) and bigints as
// integers, which JSON.stringify cannot do.
import { JsonAmount, formatCoins } from './amount.js';

export function stringifyJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof JsonAmount) return formatCoins(value.sats);
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Array.isArray(value)) return '[' + value.map((v) => stringifyJson(v)).join(',') + ']';
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return stringifyJson(withToJson.toJSON());
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + stringifyJson(v));
  }
  return '{' + parts.join(',') + '}';
}

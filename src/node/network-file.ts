// Networks of one's own on disk: reading the NAME.json that `tally network create` writes, and
// picking a node's parameters (Tally's genesis.json, or such a file). Owns: the file's path,
// reading and caching it. Does not own its format or checks (consensus/params.ts). Fails with
// NetworkFileError: one line naming the file and what is wrong with it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  NETWORK_NAMES,
  ParamsError,
  getParams,
  parseNetworkFile,
  type ChainParams,
  type NetworkName,
} from '../consensus/params.js';

export class NetworkFileError extends Error {
  override readonly name = 'NetworkFileError';
}

/** `--chain` and `chain=` name a network file when the value ends in .json. */
export function isNetworkFile(value: string): boolean {
  return value.endsWith('.json');
}

const loaded = new Map<string, ChainParams>();

/** The network a file defines, validated; read once per path and process. */
export function loadNetworkFile(path: string): ChainParams {
  const abs = resolve(path);
  const known = loaded.get(abs);
  if (known) return known;
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new NetworkFileError(`cannot read network file ${abs}: ${err.code ?? err.message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NetworkFileError(`${abs}: not JSON (${(e as Error).message})`);
  }
  let params: ChainParams;
  try {
    params = parseNetworkFile(json, abs);
  } catch (e) {
    if (e instanceof ParamsError) throw new NetworkFileError(e.message);
    throw e;
  }
  loaded.set(abs, params);
  return params;
}

/** A configuration's network parameters: its network file's, or one of genesis.json's. */
export function paramsOf(cfg: { network: string; chainFile?: string }): ChainParams {
  if (cfg.chainFile !== undefined) return loadNetworkFile(cfg.chainFile);
  if (!(NETWORK_NAMES as readonly string[]).includes(cfg.network))
    throw new RangeError(`unknown network "${cfg.network}"`);
  return getParams(cfg.network as NetworkName);
}

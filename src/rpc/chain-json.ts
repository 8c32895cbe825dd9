// JSON shapes shared by the chain and raw-transaction RPC methods, as Bitcoin Core prints them
// (TxToUniv, ScriptToUniv, blockheaderToJSON): transactions, scripts, headers, difficulty, and
// the parsing of hash parameters. Pure formatting: nothing here reads the chain.
import type { AddressPrefixes } from '../primitives/address.js';
import { scriptToAddress } from '../primitives/address.js';
import type { BlockHeader } from '../primitives/block.js';
import { bytesToHex, reverseHex } from '../primitives/bytes.js';
import type { Tx } from '../primitives/tx.js';
import { scriptToAsm } from '../script/asm.js';
import { classifyScript } from '../script/standard.js';
import { compactToTarget } from '../consensus/pow.js';
import { inferDescriptor } from './descriptor.js';
import { JsonAmount } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import type { ParamReader } from './params.js';
import type { BlockInfo, ChainPort } from './ports.js';

/** Core's TxoutType names for the legacy templates. */
export function scriptType(script: Uint8Array): string {
  return classifyScript(script).type;
}

/** scriptPubKey object: asm, desc (Core's inferred descriptor), hex, address (P2PKH/P2SH), type. */
export function scriptPubKeyJson(script: Uint8Array, prefixes: AddressPrefixes): Record<string, unknown> {
  return {
    asm: scriptToAsm(script),
    desc: inferDescriptor(script, prefixes),
    hex: bytesToHex(script),
    address: scriptToAddress(script, prefixes) ?? undefined,
    type: scriptType(script),
  };
}

/** The coin an input spent, from the block's undo data. */
export interface SpentOutput {
  value: bigint;
  script: Uint8Array;
  height: number;
  coinbase: boolean;
}

/**
 * Core's TxToUniv without the block fields: txid, hash, sizes, vin, vout. With the coins its inputs
 * spent (`spent`, from undo data) it adds `fee`, and with `prevouts` each input's `prevout`
 * (getblock verbosity 3, getrawtransaction verbosity 2); `hex` adds the serialization at the end.
 */
export function txJson(
  tx: Tx,
  prefixes: AddressPrefixes,
  opts: { spent?: readonly SpentOutput[]; prevouts?: boolean; hex?: boolean } = {},
): Record<string, unknown> {
  const txid = tx.txidHex();
  const coinbase = tx.isCoinbase();
  const spent = coinbase ? undefined : opts.spent;
  const prevout = (i: number) => {
    const c = spent?.[i];
    return opts.prevouts && c
      ? {
          prevout: {
            generated: c.coinbase,
            height: c.height,
            value: new JsonAmount(c.value),
            scriptPubKey: scriptPubKeyJson(c.script, prefixes),
          },
        }
      : {};
  };
  const fee =
    spent && spent.length === tx.inputs.length
      ? {
          fee: new JsonAmount(
            spent.reduce((t, c) => t + c.value, 0n) - tx.outputs.reduce((t, o) => t + o.value, 0n),
          ),
        }
      : {};
  return {
    txid,
    hash: txid,
    version: tx.version,
    size: tx.size,
    vsize: tx.size,
    weight: tx.size * 4,
    locktime: tx.locktime,
    vin: tx.inputs.map((i, n) =>
      coinbase
        ? { coinbase: bytesToHex(i.scriptSig), sequence: i.sequence }
        : {
            txid: i.prevout.txidHex(),
            vout: i.prevout.index,
            scriptSig: { asm: scriptToAsm(i.scriptSig), hex: bytesToHex(i.scriptSig) },
            ...prevout(n),
            sequence: i.sequence,
          },
    ),
    vout: tx.outputs.map((o, n) => ({
      value: new JsonAmount(o.value),
      n,
      scriptPubKey: scriptPubKeyJson(o.scriptPubKey, prefixes),
    })),
    ...fee,
    ...(opts.hex ? { hex: bytesToHex(tx.encode()) } : {}),
  };
}

/**
 * Core's GetDifficulty: how many times harder than the 0x1d00ffff target (Bitcoin's original
 * minimum, kept as the unit on every network so figures compare with Core's).
 */
export function difficultyFromBits(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256;
    shift++;
  }
  while (shift > 29) {
    diff /= 256;
    shift--;
  }
  return diff;
}

/** The target of compact `bits` as Core prints `target`: 64 hex digits. */
export function targetHex(bits: number): string {
  return compactToTarget(bits).target.toString(16).padStart(64, '0');
}

/** Chain work as Core prints it: 64 hex digits. */
export function chainWorkHex(work: bigint): string {
  return work.toString(16).padStart(64, '0');
}

/** A 32-bit header field (version, bits) as Core prints it: 8 hex digits. */
export function u32Hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Header fields common to getblock and getblockheader. */
export function headerJson(header: BlockHeader): Record<string, unknown> {
  return {
    version: header.version,
    versionHex: u32Hex(header.version),
    merkleroot: reverseHex(header.merkleRoot),
    time: header.time,
    nonce: header.nonce,
    bits: u32Hex(header.bits),
    target: targetHex(header.bits),
    difficulty: difficultyFromBits(header.bits),
  };
}

/** A 32-byte hash parameter in display hex, checked as Core's ParseHashV (-8 with its wording). */
export function hashParam(r: ParamReader, i: number, name: string): string {
  const v = r.string(i);
  if (v.length !== 64)
    throw new RpcError(
      RpcCode.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${v.length}, for '${v}')`,
    );
  if (!/^[0-9a-fA-F]+$/.test(v))
    throw new RpcError(RpcCode.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${v}')`);
  return v.toLowerCase();
}

/** Core's ParseHashOrHeight: a height of the active chain (-8 outside it) or any known block's hash (-5). */
export function hashOrHeightParam(
  chain: Pick<ChainPort, 'height' | 'getEntry' | 'getEntryAtHeight'>,
  r: ParamReader,
  raw: unknown[],
  i: number,
  name: string,
): BlockInfo {
  if (typeof raw[i] === 'number') {
    const h = r.int(i);
    if (h < 0) throw new RpcError(RpcCode.INVALID_PARAMETER, `Target block height ${h} is negative`);
    if (h > chain.height)
      throw new RpcError(
        RpcCode.INVALID_PARAMETER,
        `Target block height ${h} after current tip ${chain.height}`,
      );
    return chain.getEntryAtHeight(h)!;
  }
  const e = chain.getEntry(hashParam(r, i, name));
  if (e === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
  return e;
}

/**
 * Cumulative transaction counts by block hash (Core keeps nChainTx in every CBlockIndex): filled
 * lazily as callers ask, one entry per block of the chain, never changed by a reorg.
 */
export function chainTxCounter(chain: Pick<ChainPort, 'getBlock'>): (e: BlockInfo) => Promise<number> {
  const chainTx = new Map<string, number>();
  return async (e) => {
    const path: BlockInfo[] = [];
    let at: BlockInfo | null = e;
    while (at !== null && !chainTx.has(at.hashHex)) {
      path.push(at);
      at = at.prev;
    }
    let count = at === null ? 0 : chainTx.get(at.hashHex)!;
    for (const b of path.reverse()) {
      const block = await chain.getBlock(b.hash);
      if (block === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'Block not available (pruned data)');
      count += block.txs.length;
      chainTx.set(b.hashHex, count);
    }
    return count;
  };
}

/** Core accepts verbosity as a number or, for older clients, a bool (true = 1). */
export function verbosity(raw: unknown[], r: ParamReader, i: number, fallback: number, max: number): number {
  const v = raw[i];
  if (typeof v === 'boolean') return v ? 1 : 0;
  return r.optInt(i, fallback, 0, max);
}

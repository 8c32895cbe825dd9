// Script verification flags a block's transactions are checked under, by which soft forks are
// active at its height (Core's GetBlockScriptFlags, pre-SegWit: BIP147's NULLDUMMY keyed to its
// own height). On Tally's networks every height is 0, so every block gets MANDATORY_SCRIPT_FLAGS.
import { reverseHex } from '../primitives/bytes.js';
import { ScriptFlags } from '../script/flags.js';

/**
 * Bitcoin block 170,060 spends a P2SH-shaped output in a way BIP16 forbids; Core exempts it by hash
 * so that a preset enforcing P2SH from an earlier height still accepts it.
 */
const BIP16_EXCEPTION = '00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22';

/** The activation heights read here; ChainParams satisfies it. */
export interface ScriptFlagParams {
  bip16Height: number;
  bip66Height: number;
  bip65Height: number;
  csvHeight: number;
  bip147Height: number;
}

/** hash: the block's hash, internal byte order. */
export function blockScriptFlags(height: number, hash: Uint8Array, params: ScriptFlagParams): number {
  let flags = ScriptFlags.NONE;
  if (height >= params.bip16Height && reverseHex(hash) !== BIP16_EXCEPTION) flags |= ScriptFlags.P2SH;
  if (height >= params.bip66Height) flags |= ScriptFlags.DERSIG;
  if (height >= params.bip65Height) flags |= ScriptFlags.CHECKLOCKTIMEVERIFY;
  if (height >= params.csvHeight) flags |= ScriptFlags.CHECKSEQUENCEVERIFY;
  if (height >= params.bip147Height) flags |= ScriptFlags.NULLDUMMY;
  return flags;
}

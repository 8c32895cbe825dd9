// Script text: Bitcoin Core's test ASM (the syntax of script_tests.json and tx_valid.json) in,
// Core's ScriptToAsmStr out (decodescript's "asm"). Parse failures throw AsmParseError naming
// the bad word: this is tooling input, not consensus data, so it is not a ScriptError.
import { hexToBytes } from '../primitives/bytes.js';
import { decodeNum, encodeNum } from './num.js';
import { OP, OPCODES_BY_NAME, opcodeName } from './opcodes.js';
import { newOp, readOp, serializePush } from './script.js';

export class AsmParseError extends Error {
  override readonly name = 'AsmParseError';
  constructor(reason: string) {
    super(`script parse error: ${reason}`);
  }
}

/**
 * Words split on whitespace: a decimal number is a minimal number push (OP_0, OP_1NEGATE,
 * OP_1..OP_16 or a script-number push); `0x..` inserts raw bytes; `'text'` pushes the text; an
 * opcode name may drop its OP_ prefix.
 */
export function parseCoreAsm(text: string): Uint8Array {
  const out: number[] = [];
  const emit = (b: ArrayLike<number>): void => {
    for (let i = 0; i < b.length; i++) out.push(b[i]);
  };
  for (const word of text.split(/[ \t\n]+/)) {
    if (word === '') continue;
    if (/^-?[0-9]+$/.test(word) && word !== '-') {
      const n = Number(word);
      if (!Number.isSafeInteger(n) || n > 0xffffffff || n < -0xffffffff) {
        throw new AsmParseError(`number out of range: ${word}`);
      }
      if (n === 0) out.push(OP.OP_0);
      else if (n === -1 || (n >= 1 && n <= 16)) out.push(n + (OP.OP_1 - 1));
      else emit(serializePush(encodeNum(n)));
    } else if (word.startsWith('0x') && word.length > 2 && /^[0-9a-fA-F]+$/.test(word.slice(2))) {
      if (word.length % 2 !== 0) throw new AsmParseError(`odd-length hex: ${word}`);
      emit(hexToBytes(word.slice(2)));
    } else if (word.length >= 2 && word.startsWith("'") && word.endsWith("'")) {
      emit(serializePush(new TextEncoder().encode(word.slice(1, -1))));
    } else {
      const op = OPCODES_BY_NAME.get(word);
      if (op === undefined) throw new AsmParseError(`unknown opcode: ${word}`);
      out.push(op);
    }
  }
  return Uint8Array.from(out);
}

/** Core's ScriptToAsmStr: pushes of up to 4 bytes print as numbers, longer ones as hex. */
export function scriptToAsm(script: Uint8Array): string {
  const words: string[] = [];
  const op = newOp();
  let pos = 0;
  while (pos < script.length) {
    if (!readOp(script, pos, op)) {
      words.push('[error]');
      break;
    }
    pos = op.next;
    if (op.opcode <= OP.OP_PUSHDATA4) {
      const data = script.subarray(op.dataStart, op.dataEnd);
      words.push(data.length <= 4 ? String(decodeNum(data, false)) : Buffer.from(data).toString('hex'));
    } else words.push(opcodeName(op.opcode));
  }
  return words.join(' ');
}

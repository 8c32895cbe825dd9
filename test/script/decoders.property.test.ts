// Script-side decoders on untrusted input: script numbers (CScriptNum) round trip and refuse
// overflow and, under MINIMALDATA, padding with ScriptError SCRIPTNUM; the test-ASM parser
// gives bytes or AsmParseError on any text and agrees with scriptToAsm on numbers; scriptToAsm
// and parseFlags never throw anything unexpected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, equalBytes } from '../../src/primitives/bytes.js';
import { AsmParseError, parseCoreAsm, scriptToAsm } from '../../src/script/asm.js';
import { ScriptError } from '../../src/script/errors.js';
import { ScriptFlags, formatFlags, parseFlags } from '../../src/script/flags.js';
import { decodeNum, encodeNum } from '../../src/script/num.js';
import { OP, OPCODES_BY_NAME, opcodeName } from '../../src/script/opcodes.js';

const I32 = 2 ** 31 - 1;

test('script numbers: round trip within 4 and 5 bytes; the encoding is minimal', () => {
  fc.assert(
    fc.property(fc.integer({ min: -I32, max: I32 }), (n) => {
      const enc = encodeNum(n);
      assert.ok(enc.length <= 4);
      assert.equal(decodeNum(enc, true), n);
      assert.equal(decodeNum(enc, false), n);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 39) + 1, max: 2 ** 39 - 1 }), (n) => {
      const enc = encodeNum(n);
      if (enc.length > 4) assert.throws(() => decodeNum(enc, true), ScriptError);
      assert.equal(decodeNum(enc, true, 5), n);
    }),
    { numRuns: 300 },
  );
});

test('script numbers: random bytes give a value or ScriptError SCRIPTNUM, never another exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 7 }), fc.boolean(), fc.constantFrom(4, 5), (b, minimal, max) => {
      let n: number;
      try {
        n = decodeNum(b, minimal, max);
      } catch (e) {
        assert.ok(e instanceof ScriptError && e.code === 'SCRIPTNUM', String(e));
        assert.ok(b.length > max || minimal);
        return;
      }
      assert.ok(b.length <= max);
      // Minimal decoding accepts exactly the canonical encoding; lax decoding agrees on the value.
      if (minimal) assert.ok(equalBytes(encodeNum(n), b), bytesToHex(b));
      else assert.equal(decodeNum(encodeNum(n), true, 5), n);
    }),
    { numRuns: 500 },
  );
});

const names = [...OPCODES_BY_NAME.keys()];
const asmWord = fc.oneof(
  fc.constantFrom(...names),
  fc.integer({ min: -0xffffffff, max: 0xffffffff }).map(String),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => '0x' + bytesToHex(b)),
  fc
    .string({ unit: fc.constantFrom('a', 'b', ' ', 'z', '1'), maxLength: 6 })
    .map((s) => `'${s.replace(/ /g, '_')}'`),
);

test('ASM: any text gives bytes or AsmParseError; words of the grammar always parse', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.array(fc.oneof(asmWord, fc.string({ maxLength: 5 })), { maxLength: 6 }).map((w) => w.join(' ')),
      ),
      (text) => {
        try {
          assert.ok(parseCoreAsm(text) instanceof Uint8Array);
        } catch (e) {
          assert.ok(e instanceof AsmParseError && /^script parse error: /.test(e.message), String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.array(asmWord, { maxLength: 8 }), fc.constantFrom(' ', '\t', '\n  '), (words, sep) => {
      const script = parseCoreAsm(words.join(sep));
      // What the parser built is a script scriptToAsm can print, and raw hex inserts stay raw.
      assert.equal(typeof scriptToAsm(script), 'string');
    }),
    { numRuns: 200 },
  );
});

test('ASM: raw 0x bytes insert verbatim; opcode names and 4-byte numbers round trip through scriptToAsm', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), (b) => {
      assert.ok(equalBytes(parseCoreAsm('0x' + bytesToHex(b)), b));
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -I32, max: I32 }), { maxLength: 6 }), (ns) => {
      assert.equal(scriptToAsm(parseCoreAsm(ns.join(' '))), ns.join(' '));
    }),
    { numRuns: 200 },
  );
  // Opcodes past OP_16 print by the name they are parsed from.
  const named = Object.entries(OP)
    .filter(([name, code]) => code > OP.OP_16 && opcodeName(code) === name)
    .map(([name]) => name);
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...named), { maxLength: 6 }), (ops) => {
      assert.equal(scriptToAsm(parseCoreAsm(ops.join(' '))), ops.join(' '));
    }),
    { numRuns: 100 },
  );
});

test('script flags: any text gives flag bits or an "unknown script flag" Error; formatFlags round trips', () => {
  const flagNames = Object.keys(ScriptFlags);
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constantFrom(...flagNames, 'toString', '__proto__', ' P2SH '),
          fc.string({ maxLength: 6 }),
        ),
        { maxLength: 4 },
      ),
      (parts) => {
        try {
          assert.equal(typeof parseFlags(parts.join(',')), 'number');
        } catch (e) {
          assert.ok(e instanceof Error && /unknown script flag/.test(e.message), String(e));
        }
      },
    ),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.subarray(flagNames), (set) => {
      const bits = parseFlags(set.join(','));
      assert.equal(parseFlags(formatFlags(bits) === 'NONE' ? '' : formatFlags(bits)), bits);
    }),
    { numRuns: 100 },
  );
});

test('script numbers: negative zero (a lone sign bit) decodes to 0, not -0', () => {
  for (const b of [[0x80], [0, 0x80], [0, 0, 0, 0x80]])
    assert.ok(Object.is(decodeNum(Uint8Array.from(b), false), 0));
});

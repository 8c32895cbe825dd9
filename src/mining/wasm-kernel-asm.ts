// A minimal WebAssembly binary writer: just the sections, instructions and SIMD opcodes the
// SHA-256d nonce kernel needs. Owns: byte encoding (LEB128, sections, function bodies).
// Does not own: what the kernel computes (sha256-kernel-wasm.ts). It emits bytes and never
// validates them; WebAssembly.Module rejects a malformed module with a CompileError.
//
// Why an assembler rather than a .wasm file or a wabt build step: the build stays pure `tsc` with no
// new dependency and no binary artefact to copy into dist/, and the kernel is generated from the
// same symbolic SHA-256 that decides which words are constant per job (see docs/mining.md).

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Plain opcodes (one byte). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Store: 0x36,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i32Rotr: 0x78,
} as const;

/** SIMD opcodes (prefix 0xfd, then the LEB128 code). */
export const Simd = {
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  i32x4LeU: 0x3e,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128AnyTrue: 0x53,
  i32x4Shl: 0xab,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
} as const;

export const BLOCK_EMPTY = 0x40;

/** Appends instructions to a function body. */
export class Code {
  readonly bytes: number[] = [];

  op(code: number): this {
    this.bytes.push(code);
    return this;
  }

  u32(n: number): this {
    uleb(this.bytes, n);
    return this;
  }

  simd(code: number): this {
    this.bytes.push(0xfd);
    uleb(this.bytes, code);
    return this;
  }

  local(op: number, index: number): this {
    return this.op(op).u32(index);
  }

  i32Const(n: number): this {
    this.bytes.push(Op.i32Const);
    sleb(this.bytes, n | 0);
    return this;
  }

  /** Loads and stores: memarg is the alignment exponent, then the offset. */
  mem(op: number, alignLog2: number, offset: number, simd = false): this {
    if (simd) this.simd(op);
    else this.op(op);
    return this.u32(alignLog2).u32(offset);
  }

  v128Const(lanes: readonly number[]): this {
    this.simd(Simd.v128Const);
    for (const v of lanes) this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }

  shuffle(lanes: readonly number[]): this {
    this.simd(Simd.i8x16Shuffle);
    this.bytes.push(...lanes);
    return this;
  }
}

export interface FuncDef {
  name: string;
  params: number[];
  results: number[];
  /** Types of the locals declared after the parameters, in index order. */
  locals: number[];
  body: Code;
}

/** A module of the given functions (all exported) and one exported memory named "memory". */
export function moduleBytes(funcs: FuncDef[], memoryPages: number): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(
    out,
    1,
    vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))])),
  );
  section(out, 3, vec(funcs.map((_, i) => ule(i))));
  section(out, 5, vec([[0x00, ...ule(memoryPages)]]));
  const exports = funcs.map((f, i) => [...name(f.name), 0x00, ...ule(i)]);
  exports.push([...name('memory'), 0x02, 0x00]);
  section(out, 7, vec(exports));
  section(
    out,
    10,
    vec(
      funcs.map((f) => {
        const body = [...localDecls(f.locals), ...f.body.bytes, Op.end];
        return [...ule(body.length), ...body];
      }),
    ),
  );
  return Uint8Array.from(out);
}

function localDecls(types: number[]): number[] {
  const groups: number[][] = [];
  for (let i = 0; i < types.length;) {
    let j = i;
    while (j < types.length && types[j] === types[i]) j++;
    groups.push([...ule(j - i), types[i]]);
    i = j;
  }
  return vec(groups);
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id, ...ule(content.length));
  for (const b of content) out.push(b);
}

function vec(items: number[][]): number[] {
  const out = ule(items.length);
  for (const it of items) for (const b of it) out.push(b);
  return out;
}

function name(s: string): number[] {
  return [...ule(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function ule(n: number): number[] {
  const out: number[] = [];
  uleb(out, n);
  return out;
}

function uleb(out: number[], n: number): void {
  n = n >>> 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(out: number[], n: number): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

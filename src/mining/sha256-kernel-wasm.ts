// The WebAssembly SIMD SHA-256d nonce kernel: four nonces per 128-bit vector.
// Owns: generating the kernel module and driving it (job setup, scanning a nonce range).
// Does not own: threads, abort or the full-target check (worker.ts). A host without WebAssembly
// SIMD fails `new WasmSimdKernel()` with a CompileError; hasher.ts tests for that first.
//
// The kernel is generated from the SHA-256d graph of sha256-kernel-graph.ts: per-job words go into
// `prepare()`, run once per job, which stores each as a splatted vector; per-nonce words go into
// the hot loop `scan()`, four nonces per v128, which leaves early on the top hash word.
import { BLOCK_EMPTY, Code, I32, Op, Simd, V128, moduleBytes } from './wasm-kernel-asm.js';
import { headerMidstate, headerTailWords, type NonceKernel } from './sha256-kernel-js.js';
import { IMM, JOB, VAR, Node, headerTopWordGraph } from './sha256-kernel-graph.js';

// The project compiles without the DOM library, which is where TypeScript declares WebAssembly;
// Node provides the global. These are the few members used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
};

// Memory layout (bytes): job inputs, the candidate lane words, then the per-job vector slots.
const IN_MID = 0; // 8 words: midstate
const IN_TAIL = 32; // 3 words: header words 16..18 (big-endian values)
const IN_TARGET = 44; // 1 word: top 32 bits of the target
const OUT_TOP = 64; // 4 words: top hash words of the candidate group, lanes 0..3
const SLOT_BASE = 128;
const MAX_SLOTS = (65536 - SLOT_BASE) / 16;

// Hot-loop locals: params base (0) and iters (1), then these; the graph's locals follow.
const L_I = 2;
const L_NONCES = 3;
const L_W3 = 4;
const L_TOP = 5;
// Byte-swaps each 32-bit lane: the header stores the nonce little-endian, SHA-256 reads big-endian.
const BSWAP_LANES = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

const BITWISE = {
  xor: { vector: Simd.v128Xor, scalar: Op.i32Xor },
  and: { vector: Simd.v128And, scalar: Op.i32And },
  or: { vector: Simd.v128Or, scalar: Op.i32Or },
};

class Emitter {
  readonly hot = new Code();
  readonly prep = new Code();
  readonly hotLocals: number[] = [I32, V128, V128, V128];
  readonly prepLocals: number[] = [];
  readonly slots: Node[] = [];

  countHot(n: Node): void {
    n.uses++;
    if (n.uses > 1) return;
    if (n.kind === JOB) {
      if (this.slots.length >= MAX_SLOTS) throw new Error('sha256 kernel: out of job slots');
      n.slot = this.slots.length;
      this.slots.push(n);
    }
    if (n.kind !== VAR) return;
    for (const a of n.args) {
      this.countHot(a);
      // A rotation reads its operand twice (shr and shl), so the operand must sit in a local.
      if (n.op === 'rotr') this.countHot(a);
    }
  }

  emitHot(n: Node): void {
    const c = this.hot;
    if (n.kind === IMM) {
      c.v128Const([n.v, n.v, n.v, n.v]);
      return;
    }
    if (n.kind === JOB) {
      c.i32Const(0).mem(Simd.v128Load, 4, SLOT_BASE + 16 * n.slot, true);
      return;
    }
    if (n.local >= 0) {
      c.local(Op.localGet, n.local);
      return;
    }
    const [x, y] = n.args;
    switch (n.op) {
      case 'add':
        this.emitHot(x);
        for (let i = 1; i < n.args.length; i++) {
          this.emitHot(n.args[i]);
          c.simd(Simd.i32x4Add);
        }
        break;
      case 'xor':
      case 'and':
      case 'or':
        this.emitHot(x);
        this.emitHot(y);
        c.simd(BITWISE[n.op].vector);
        break;
      case 'rotr':
        this.emitHot(x);
        c.i32Const(n.v).simd(Simd.i32x4ShrU);
        this.emitHot(x);
        c.i32Const(32 - n.v)
          .simd(Simd.i32x4Shl)
          .simd(Simd.v128Or);
        break;
      case 'shr':
        this.emitHot(x);
        c.i32Const(n.v).simd(Simd.i32x4ShrU);
        break;
      default:
        throw new Error(`sha256 kernel: no vector form for ${n.op}`);
    }
    if (n.uses > 1) {
      n.local = 2 + this.hotLocals.length;
      this.hotLocals.push(V128);
      c.local(Op.localTee, n.local);
    }
  }

  countPrep(n: Node): void {
    n.puses++;
    if (n.puses > 1 || n.kind !== JOB) return;
    for (const a of n.args) this.countPrep(a);
  }

  emitPrep(n: Node): void {
    const c = this.prep;
    if (n.kind === IMM) {
      c.i32Const(n.v);
      return;
    }
    if (n.plocal >= 0) {
      c.local(Op.localGet, n.plocal);
      return;
    }
    const [x, y] = n.args;
    switch (n.op) {
      case 'input':
        c.i32Const(0).mem(Op.i32Load, 2, n.v);
        break;
      case 'add':
        this.emitPrep(x);
        for (let i = 1; i < n.args.length; i++) {
          this.emitPrep(n.args[i]);
          c.op(Op.i32Add);
        }
        break;
      case 'xor':
      case 'and':
      case 'or':
        this.emitPrep(x);
        this.emitPrep(y);
        c.op(BITWISE[n.op].scalar);
        break;
      case 'rotr':
      case 'shr':
        this.emitPrep(x);
        c.i32Const(n.v).op(n.op === 'rotr' ? Op.i32Rotr : Op.i32ShrU);
        break;
      default:
        throw new Error(`sha256 kernel: no scalar form for ${n.op}`);
    }
    if (n.puses > 1) {
      n.plocal = this.prepLocals.length;
      this.prepLocals.push(I32);
      c.local(Op.localTee, n.plocal);
    }
  }
}

function generate(): Uint8Array {
  const input = (off: number): Node => new Node('input', JOB, [], off);
  const nonceWord = new Node('leaf', VAR, [], 0);
  nonceWord.local = L_W3;
  const mid = Array.from({ length: 8 }, (_, i) => input(IN_MID + 4 * i));
  const tail = [input(IN_TAIL), input(IN_TAIL + 4), input(IN_TAIL + 8)];
  const h7 = headerTopWordGraph(mid, tail, nonceWord);
  const target = input(IN_TARGET);

  const em = new Emitter();
  em.countHot(h7);
  em.countHot(target);
  const c = em.hot;
  // nonces = splat(base) + (0, 1, 2, 3)
  c.local(Op.localGet, 0).simd(Simd.i32x4Splat).v128Const([0, 1, 2, 3]).simd(Simd.i32x4Add);
  c.local(Op.localSet, L_NONCES);
  c.op(Op.block).op(BLOCK_EMPTY).op(Op.loop).op(BLOCK_EMPTY);
  c.local(Op.localGet, L_I).local(Op.localGet, 1).op(Op.i32GeU).op(Op.brIf).u32(1);
  c.local(Op.localGet, L_NONCES).local(Op.localGet, L_NONCES).shuffle(BSWAP_LANES).local(Op.localSet, L_W3);
  em.emitHot(h7);
  // top = bswap(H7) per lane: the hash's most significant 32 bits when read as a little-endian number.
  c.local(Op.localTee, L_TOP).local(Op.localGet, L_TOP).shuffle(BSWAP_LANES).local(Op.localTee, L_TOP);
  em.emitHot(target);
  c.simd(Simd.i32x4LeU).simd(Simd.v128AnyTrue);
  c.op(Op.if).op(BLOCK_EMPTY);
  c.i32Const(0).local(Op.localGet, L_TOP).mem(Simd.v128Store, 4, OUT_TOP, true);
  c.local(Op.localGet, L_I).op(Op.return);
  c.op(Op.end);
  c.local(Op.localGet, L_NONCES).v128Const([4, 4, 4, 4]).simd(Simd.i32x4Add).local(Op.localSet, L_NONCES);
  c.local(Op.localGet, L_I).i32Const(1).op(Op.i32Add).local(Op.localSet, L_I);
  c.op(Op.br).u32(0);
  c.op(Op.end).op(Op.end);
  c.i32Const(-1);

  for (const s of em.slots) em.countPrep(s);
  for (const s of em.slots) {
    em.prep.i32Const(0);
    em.emitPrep(s);
    em.prep.simd(Simd.i32x4Splat).mem(Simd.v128Store, 4, SLOT_BASE + 16 * s.slot, true);
  }

  return moduleBytes(
    [
      { name: 'prepare', params: [], results: [], locals: em.prepLocals, body: em.prep },
      { name: 'scan', params: [I32, I32], results: [I32], locals: em.hotLocals, body: em.hot },
    ],
    1,
  );
}

let bytes: Uint8Array | undefined;

/** The kernel module's bytes (generated once per process). */
export function wasmKernelBytes(): Uint8Array {
  bytes ??= generate();
  return bytes;
}

/** Whether this host compiles the kernel (WebAssembly with 128-bit SIMD). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmKernelBytes());
  } catch {
    return false;
  }
}

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  prepare(): void;
  scan(base: number, iters: number): number;
}

export class WasmSimdKernel implements NonceKernel {
  readonly name = 'wasm-simd';
  private readonly exp: KernelExports;
  private readonly words: Uint32Array;
  private targetTop = 0;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmKernelBytes()), {});
    this.exp = instance.exports as unknown as KernelExports;
    this.words = new Uint32Array(this.exp.memory.buffer);
  }

  setJob(header: Uint8Array, targetTop: number): void {
    const w = this.words;
    w.set(headerMidstate(header), IN_MID / 4);
    w.set(headerTailWords(header), IN_TAIL / 4);
    this.targetTop = targetTop >>> 0;
    w[IN_TARGET / 4] = this.targetTop;
    this.exp.prepare();
  }

  scan(start: number, count: number): number {
    const groups = Math.ceil(count / 4);
    const g = this.exp.scan(start | 0, groups | 0);
    if (g < 0) return -1;
    for (let lane = 0; lane < 4; lane++) {
      const offset = 4 * g + lane;
      // Lanes past `count` can only occur in the last group; nothing in range remains after them.
      if (offset >= count) return -1;
      if (this.words[OUT_TOP / 4 + lane] <= this.targetTop) return (start + offset) >>> 0;
    }
    return -1;
  }
}

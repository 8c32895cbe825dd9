// SHA-256d of a header as a graph of 32-bit word operations, each word marked by when it is
// known: when the kernel is generated (round constants, padding), once per job (midstate, merkle
// tail, time, bits) or per nonce. Owns: building that graph with constant folding and the
// regrouping of sums into a per-nonce part and one per-job part. Does not own: turning it into
// code (sha256-kernel-wasm.ts). Pure; never throws.
//
// Evaluating SHA-256d once over such words is what precomputes, without a hand-kept list, the
// first three rounds of the second block, the constant parts of its message schedule and the
// round-0 terms of the second hash: everything not marked per-nonce is per-job. A code generator
// walks back from the word it needs (H7), so the last three rounds of the second hash and the
// other seven output words are never generated.
import { DIGEST_BITS, HEADER_BITS, IV, K, PAD_WORD } from './sha256-constants.js';

export const IMM = 0; // known when the module is generated
export const JOB = 1; // known once per job (computed in prepare)
export const VAR = 2; // differs per nonce (computed in the hot loop)

export type OpName = 'imm' | 'input' | 'leaf' | 'add' | 'xor' | 'and' | 'or' | 'rotr' | 'shr';

export class Node {
  uses = 0; // references from the hot loop's graph
  local = -1;
  puses = 0; // references from prepare's graph
  plocal = -1;
  slot = -1;
  constructor(
    readonly op: OpName,
    readonly kind: number,
    readonly args: Node[],
    readonly v: number,
  ) {}
}

export function imm(v: number): Node {
  return new Node('imm', IMM, [], v | 0);
}

function add(...xs: Node[]): Node {
  const vars: Node[] = [];
  const jobs: Node[] = [];
  let c = 0;
  const push = (x: Node): void => {
    if (x.kind === IMM) c = (c + x.v) | 0;
    else if (x.op === 'add' && x.kind === JOB) x.args.forEach(push);
    else (x.kind === JOB ? jobs : vars).push(x);
  };
  xs.forEach(push);
  const fixed = c !== 0 ? [...jobs, imm(c)] : jobs;
  const part = fixed.length === 0 ? null : fixed.length === 1 ? fixed[0] : new Node('add', JOB, fixed, 0);
  if (vars.length === 0) return part ?? imm(0);
  const terms = part ? [...vars, part] : vars;
  return terms.length === 1 ? terms[0] : new Node('add', VAR, terms, 0);
}

function bin(op: 'xor' | 'and' | 'or', a: Node, b: Node): Node {
  if (a.kind === IMM && b.kind === IMM) {
    return imm(op === 'xor' ? a.v ^ b.v : op === 'and' ? a.v & b.v : a.v | b.v);
  }
  if (b.kind === IMM) [a, b] = [b, a];
  if (a.kind === IMM && a.v === 0) return op === 'and' ? a : b;
  return new Node(op, Math.max(a.kind, b.kind), [a, b], 0);
}

const xor = (a: Node, b: Node): Node => bin('xor', a, b);
const and = (a: Node, b: Node): Node => bin('and', a, b);

function rotr(x: Node, r: number): Node {
  if (x.kind === IMM) return imm((x.v >>> r) | (x.v << (32 - r)));
  return new Node('rotr', x.kind, [x], r);
}

function shr(x: Node, r: number): Node {
  if (x.kind === IMM) return imm(x.v >>> r);
  return new Node('shr', x.kind, [x], r);
}

const Sigma0 = (a: Node): Node => xor(xor(rotr(a, 2), rotr(a, 13)), rotr(a, 22));
const Sigma1 = (e: Node): Node => xor(xor(rotr(e, 6), rotr(e, 11)), rotr(e, 25));
const sigma0 = (x: Node): Node => xor(xor(rotr(x, 7), rotr(x, 18)), shr(x, 3));
const sigma1 = (x: Node): Node => xor(xor(rotr(x, 17), rotr(x, 19)), shr(x, 10));

/** init + compress(init, block), symbolically. */
function compressSym(init: Node[], block: Node[]): Node[] {
  const w = block.slice();
  for (let t = 16; t < 64; t++) w[t] = add(sigma1(w[t - 2]), w[t - 7], sigma0(w[t - 15]), w[t - 16]);
  let [a, b, c, d, e, f, g, h] = init;
  // Maj(a,b,c) = b ^ ((a^b) & (b^c)); b^c is the previous round's a^b.
  let bc = xor(b, c);
  for (let t = 0; t < 64; t++) {
    const t1 = add(h, Sigma1(e), xor(g, and(e, xor(f, g))), imm(K[t]), w[t]);
    const ab = xor(a, b);
    const t2 = add(Sigma0(a), xor(b, and(ab, bc)));
    h = g;
    g = f;
    f = e;
    e = add(d, t1);
    d = c;
    c = b;
    b = a;
    a = add(t1, t2);
    bc = ab;
  }
  const out = [a, b, c, d, e, f, g, h];
  return init.map((s, i) => add(s, out[i]));
}

/** The top state word H7 of sha256d(header) given the midstate, header words 16..18 and the nonce word. */
export function headerTopWordGraph(mid: Node[], tail: Node[], nonceWord: Node): Node {
  const block2 = [
    ...tail,
    nonceWord,
    imm(PAD_WORD),
    ...Array.from({ length: 10 }, () => imm(0)),
    imm(HEADER_BITS),
  ];
  const first = compressSym(mid, block2);
  const block3 = [...first, imm(PAD_WORD), ...Array.from({ length: 6 }, () => imm(0)), imm(DIGEST_BITS)];
  return compressSym(Array.from(IV, imm), block3)[7];
}

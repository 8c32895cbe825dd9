// script/: Bitcoin's legacy (pre-SegWit) script, so Bitcoin Core's vectors can judge it.
// Owns: opcodes, script numbers, the interpreter (EvalScript/VerifyScript with P2SH, CLTV, CSV
// and every policy flag), the legacy signature hash, the signature cache, standard templates,
// sigop counting and Core's test ASM. Does not own: ECDSA and DER (crypto/), which flags apply
// at which height (consensus/), parallelism (chain/verify-pool.ts). Pure: no I/O, clock or
// randomness. Fails by throwing ScriptError (a Core ScriptError name) and nothing else.
export * from './errors.js';
export * from './flags.js';
export * from './opcodes.js';
export * from './num.js';
export * from './script.js';
export * from './interpreter.js';
export * from './sighash.js';
export * from './sigcache.js';
export * from './standard.js';
export * from './sigops.js';
export * from './asm.js';

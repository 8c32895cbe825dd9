// Script verification flags, with Bitcoin Core's bit positions (witness-only flags left out).

export const ScriptFlags = {
  NONE: 0,
  P2SH: 1 << 0,
  STRICTENC: 1 << 1,
  DERSIG: 1 << 2,
  LOW_S: 1 << 3,
  NULLDUMMY: 1 << 4,
  SIGPUSHONLY: 1 << 5,
  MINIMALDATA: 1 << 6,
  DISCOURAGE_UPGRADABLE_NOPS: 1 << 7,
  CLEANSTACK: 1 << 8,
  CHECKLOCKTIMEVERIFY: 1 << 9,
  CHECKSEQUENCEVERIFY: 1 << 10,
  NULLFAIL: 1 << 14,
  CONST_SCRIPTCODE: 1 << 16,
} as const;

export type ScriptFlagName = keyof typeof ScriptFlags;

/** Consensus on Tally's networks: every legacy soft fork is active from height 0. */
export const MANDATORY_SCRIPT_FLAGS =
  ScriptFlags.P2SH |
  ScriptFlags.DERSIG |
  ScriptFlags.NULLDUMMY |
  ScriptFlags.CHECKLOCKTIMEVERIFY |
  ScriptFlags.CHECKSEQUENCEVERIFY;

/** Bitcoin Core's standard (relay policy) flags minus the witness ones. */
export const STANDARD_SCRIPT_FLAGS =
  MANDATORY_SCRIPT_FLAGS |
  ScriptFlags.STRICTENC |
  ScriptFlags.MINIMALDATA |
  ScriptFlags.DISCOURAGE_UPGRADABLE_NOPS |
  ScriptFlags.CLEANSTACK |
  ScriptFlags.NULLFAIL |
  ScriptFlags.LOW_S |
  ScriptFlags.CONST_SCRIPTCODE;

/** "P2SH,STRICTENC" -> bits. Empty string and "NONE" are 0; an unknown name throws. */
export function parseFlags(s: string): number {
  let flags = 0;
  for (const raw of s.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!Object.prototype.hasOwnProperty.call(ScriptFlags, name))
      throw new Error(`unknown script flag: ${name}`);
    flags |= ScriptFlags[name as ScriptFlagName];
  }
  return flags;
}

/** Bits -> "P2SH,STRICTENC" (for logs and test names). */
export function formatFlags(flags: number): string {
  const names = (Object.keys(ScriptFlags) as ScriptFlagName[]).filter(
    (n) => ScriptFlags[n] !== 0 && (flags & ScriptFlags[n]) !== 0,
  );
  return names.length ? names.join(',') : 'NONE';
}

// ScriptError: the one error type the script interpreter throws.
// Codes are Bitcoin Core's ScriptError names without the SCRIPT_ERR_ prefix, spelled as Core's
// script test harness prints them (so `NULLFAIL`, `SCRIPTNUM`, `SIG_NULLDUMMY`), which is what
// the shared vectors expect.

export type ScriptErrorCode =
  | 'UNKNOWN_ERROR'
  | 'EVAL_FALSE'
  | 'OP_RETURN'
  | 'SCRIPT_SIZE'
  | 'PUSH_SIZE'
  | 'OP_COUNT'
  | 'STACK_SIZE'
  | 'SIG_COUNT'
  | 'PUBKEY_COUNT'
  | 'VERIFY'
  | 'EQUALVERIFY'
  | 'CHECKMULTISIGVERIFY'
  | 'CHECKSIGVERIFY'
  | 'NUMEQUALVERIFY'
  | 'BAD_OPCODE'
  | 'DISABLED_OPCODE'
  | 'INVALID_STACK_OPERATION'
  | 'INVALID_ALTSTACK_OPERATION'
  | 'UNBALANCED_CONDITIONAL'
  | 'NEGATIVE_LOCKTIME'
  | 'UNSATISFIED_LOCKTIME'
  | 'SIG_HASHTYPE'
  | 'SIG_DER'
  | 'MINIMALDATA'
  | 'SIG_PUSHONLY'
  | 'SIG_HIGH_S'
  | 'SIG_NULLDUMMY'
  | 'PUBKEYTYPE'
  | 'CLEANSTACK'
  | 'NULLFAIL'
  | 'DISCOURAGE_UPGRADABLE_NOPS'
  | 'OP_CODESEPARATOR'
  | 'SIG_FINDANDDELETE'
  | 'SCRIPTNUM';

export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    readonly code: ScriptErrorCode,
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}

// The shape of the RPC method table (catalog.ts) and the two helpers its entries are written with.
export type ArgType = 'string' | 'numeric' | 'boolean' | 'object' | 'array' | 'amount' | 'json';

export interface ArgDoc {
  name: string;
  type: ArgType;
  /** undefined: required; '': optional without a default; otherwise the default as Core prints it. */
  default?: string;
  text: string;
}

export interface MethodDoc {
  summary: string;
  args: ArgDoc[];
  /** Core's Result section, already laid out. */
  result: string;
  /** Positional argument lists for the Examples section. */
  examples: unknown[][];
}

/** A required argument. */
export const req = (name: string, type: ArgType, text: string): ArgDoc => ({ name, type, text });
/** An optional argument with Core's default text ('' when there is none). */
export const opt = (name: string, type: ArgType, def: string, text: string): ArgDoc => ({
  name,
  type,
  default: def,
  text,
});

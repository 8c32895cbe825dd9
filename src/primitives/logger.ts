// The one logger type of the node. Parts stay silent until given one (DESIGN.md §3); node/ hands
// each a pino child logger, which has this shape. Declared at the bottom layer so that every
// folder may take one without importing pino or another part.

/** A structured logger: fields first, then the message (pino's argument order). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

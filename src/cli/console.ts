// The console: stdout and stderr of every `tally` command. Owns what happens when the reader goes
// away. A closed pipe (`tally wallet history | head -1`, `tally node | tee log` after Ctrl-C) makes
// the next write fail with EPIPE, a hung-up terminal with EIO; Node reports either as an 'error'
// event on the stream, and one without a listener is an uncaught exception (a stack trace, or for a
// node whose fatal-error handler logs to that same console, a loop at 100% CPU). Here every console
// stream gets one listener: the first such error marks the stream closed, later writes are dropped
// without touching it, and the command decides once what a closed console means: a command whose
// reader left has nothing more to do and exits quietly (status 0, as the reader chose to stop);
// a node logs on to debug.log and keeps running (Bitcoin Core ignores SIGPIPE for the same reason).
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** Write errors that mean nobody reads the console any more. */
const GONE = new Set([
  'EPIPE',
  'EIO',
  'ECONNRESET',
  'ENXIO',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

export function isConsoleGone(e: unknown): boolean {
  return e instanceof Error && GONE.has((e as NodeJS.ErrnoException).code ?? '');
}

type OnClosed = (code: string) => void;

export class ConsoleStream {
  /** The error code that closed the console (EPIPE, EIO …), or null while it is open. */
  closed: string | null = null;
  private onClosed: OnClosed = () => undefined;

  constructor(readonly stream: Writable & { isTTY?: boolean; fd?: number }) {
    stream.on('error', (e: unknown) => {
      if (isConsoleGone(e)) this.close((e as NodeJS.ErrnoException).code!);
      // Anything else on a console stream is just as unrecoverable, and no reason to crash.
      else this.close(String((e as NodeJS.ErrnoException)?.code ?? 'error'));
    });
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** Writes unless the console is closed; never throws. */
  write(text: string): void {
    if (this.closed !== null) return;
    try {
      this.stream.write(text);
    } catch (e) {
      this.close((e as NodeJS.ErrnoException)?.code ?? 'error');
    }
  }

  /** What a closed console does; replaces the previous choice and runs at once if already closed. */
  whenClosed(fn: OnClosed): void {
    this.onClosed = fn;
    if (this.closed !== null) fn(this.closed);
  }

  private close(code: string): void {
    if (this.closed !== null) return;
    this.closed = code;
    this.onClosed(code);
  }
}

const consoles = new WeakMap<Writable, ConsoleStream>();

/** The one ConsoleStream of a stream (its error listener is installed once). */
export function consoleFor(stream: Writable): ConsoleStream {
  let c = consoles.get(stream);
  if (c === undefined) {
    c = new ConsoleStream(stream);
    consoles.set(stream, c);
  }
  return c;
}

/** For a command run from a shell: a closed stdout ends the command quietly, a closed stderr is ignored. */
export function installProcessConsole(): void {
  consoleFor(process.stdout).whenClosed(() => process.exit(0));
  consoleFor(process.stderr);
}

/** Whether this process has a controlling terminal now (false once a closed terminal hung it up). */
export function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

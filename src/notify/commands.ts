// Notification commands: blocknotify, walletnotify, alertnotify, startupnotify (Bitcoin Core's
// -blocknotify and friends). Owns: substituting Core's placeholders and running the command.
// Does not own when an event happens: node/ calls these methods from chain, wallet and start-up
// events. As Core (which hands the line to system()), the command line is run by /bin/sh so
// operators can write pipes and redirections; what Tally substitutes can never start shell
// syntax: %s, %b and %h are hex hashes or integers, %w (a wallet name) and an alert message are
// single-quoted with anything but a small safe set of characters removed (Core's ShellEscape and
// SanitizeString). Fails by logging: a command that cannot start or exits non-zero is a warning,
// never an error of the node.
import { spawn } from 'node:child_process';
import type { Logger } from '../primitives/logger.js';

/**
 * Commands running at once. Core starts a thread for each and has no bound; a burst of blocks
 * (catching up is skipped, as in Core, but a long reorg is not) could otherwise fork thousands.
 */
export const MAX_RUNNING_COMMANDS = 64;

export interface NotifyCommandOptions {
  blocknotify?: string;
  walletnotify?: string;
  alertnotify?: string;
  startupnotify?: string;
  logger?: Logger;
  /** The shell (default /bin/sh). */
  shell?: string;
}

/** Single-quotes `s` for sh; a quote inside becomes '"'"'. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Core's SanitizeString (default rule): letters, digits and " .,;-_/:?@()" only. */
export function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9 .,;\-_/:?@()]/g, '');
}

/** Replaces every %X of `subs` in one pass (a substituted value is never substituted again). */
export function substitute(template: string, subs: Record<string, string>): string {
  return template.replace(/%([a-z])/g, (m, c: string) => (Object.hasOwn(subs, c) ? subs[c] : m));
}

export class NotifyCommands {
  private running = 0;
  private dropped = 0;

  constructor(private readonly opts: NotifyCommandOptions) {}

  /** The best block changed (not sent while catching up, as Core). %s = its hash. */
  blockTip(hashHex: string): void {
    if (this.opts.blocknotify) this.run('blocknotify', substitute(this.opts.blocknotify, { s: hashHex }));
  }

  /**
   * A wallet transaction was added or its block changed. %s = txid, %w = wallet name, %b = block
   * hash or "unconfirmed", %h = block height or -1 (Core's placeholders).
   */
  walletTx(wallet: string, txid: string, blockHash: string | null, height: number | null): void {
    if (!this.opts.walletnotify) return;
    this.run(
      'walletnotify',
      substitute(this.opts.walletnotify, {
        s: txid,
        w: shellQuote(sanitize(wallet)),
        b: blockHash ?? 'unconfirmed',
        h: String(height ?? -1),
      }),
    );
  }

  /** A warning an operator must see (Core's alertnotify). %s = the message, quoted. */
  alert(message: string): void {
    if (this.opts.alertnotify)
      this.run('alertnotify', substitute(this.opts.alertnotify, { s: shellQuote(sanitize(message)) }));
  }

  /** The node has started. */
  startup(): void {
    if (this.opts.startupnotify) this.run('startupnotify', this.opts.startupnotify);
  }

  private run(what: string, command: string): void {
    const log = this.opts.logger;
    if (this.running >= MAX_RUNNING_COMMANDS) {
      this.dropped++;
      log?.warn(
        { command, dropped: this.dropped },
        `${what}: ${MAX_RUNNING_COMMANDS} commands still running; skipped`,
      );
      return;
    }
    this.running++;
    let child;
    try {
      child = spawn(this.opts.shell ?? '/bin/sh', ['-c', command], { stdio: 'ignore' });
    } catch (err) {
      this.running--;
      log?.warn({ err, command }, `${what}: command could not start`);
      return;
    }
    child.on('error', (err) => log?.warn({ err, command }, `${what}: command could not start`));
    child.on('close', (code, signal) => {
      this.running--;
      if (code !== 0) log?.warn({ command, code, signal }, `${what}: command failed`);
      else log?.debug({ command }, `${what}: command ran`);
    });
  }
}

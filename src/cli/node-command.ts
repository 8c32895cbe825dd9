// `tally node`: starts the full node in this process (or, with --daemon, in a detached one) and
// stops it cleanly on SIGINT/SIGTERM or the `stop` RPC. Owns the terminal side of running a node:
// the catch-up progress bar and routing log lines around it. Everything else is node/'s.
import { spawn } from 'node:child_process';
import { inspect } from 'node:util';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, OPTIONS, type Flags } from '../node/config.js';
import { LOG_CATEGORIES } from '../node/logging.js';
// The node itself (chain, LevelDB, miner, p2p, explorer…) is imported when `tally node` runs, not
// by every `tally rpc` or `tally wallet` call: loading it costs ~0.8 CPU-seconds per process.
import type { TallyNode } from '../node/node.js';
import { DiskFullError } from '../storage/disk-space.js';
import { consoleFor, hasControllingTerminal, isConsoleGone } from './console.js';
import type { CliIO } from './main.js';

export interface GlobalNodeOpts {
  network?: string;
  regtest?: string | boolean;
  testnet?: string | boolean;
  chain?: string;
  datadir?: string;
  conf?: string;
  rpcport?: string;
  rpcuser?: string;
  rpcpassword?: string;
}

interface NodeFlags {
  port?: string;
  bind?: string[];
  rpcbind?: string[];
  rpcallowip?: string[];
  connect?: string[];
  addnode?: string[];
  mine?: boolean;
  threads?: string;
  mineAddress?: string;
  stratum?: string;
  stratumbind?: string;
  stratumdifficulty?: string;
  minerkernel?: string;
  dbcache?: string;
  maxconnections?: string;
  daemon?: boolean;
  debug?: string[];
  loglevel?: string;
  printtoconsole?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The node's settings from the global options and this command's flags (flags win over tally.conf). */
export function nodeFlags(g: GlobalNodeOpts, o: NodeFlags): Flags {
  const list = (v?: string[]) => (v && v.length ? v : undefined);
  return {
    network: g.network,
    ...coreNetworkFlags(g),
    datadir: g.datadir,
    conf: g.conf,
    rpcport: g.rpcport,
    rpcuser: g.rpcuser,
    rpcpassword: g.rpcpassword,
    port: o.port,
    bind: list(o.bind),
    rpcbind: list(o.rpcbind),
    rpcallowip: list(o.rpcallowip),
    connect: list(o.connect),
    addnode: list(o.addnode),
    mine: o.mine ? 'true' : undefined,
    threads: o.threads,
    mineaddress: o.mineAddress,
    stratum: o.stratum,
    stratumbind: o.stratumbind,
    stratumdifficulty: o.stratumdifficulty,
    minerkernel: o.minerkernel,
    dbcache: o.dbcache,
    maxconnections: o.maxconnections,
    daemon: o.daemon ? 'true' : undefined,
    debug: list(o.debug),
    loglevel: o.loglevel,
    printtoconsole: o.printtoconsole,
  };
}

/** Core's -regtest / -testnet / -chain=NAME as flags for loadConfig. */
export function coreNetworkFlags(g: GlobalNodeOpts): Flags {
  const b = (v: string | boolean | undefined) => (v === undefined ? undefined : v === true ? '1' : String(v));
  return { regtest: b(g.regtest), testnet: b(g.testnet), chain: g.chain };
}

/**
 * Every other tally.conf key as a flag, Core's way: --key=value, --key (boolean true), --nokey,
 * or --key VALUE for a key that takes a value. Repeated keys accumulate.
 */
export function genericFlags(args: string[]): Flags {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(a);
    if (!m) throw new ConfigError(`unexpected argument "${a}" (options are written --key=value)`);
    const key = m[1];
    let value = m[2];
    if (value === undefined) {
      const spec = Object.hasOwn(OPTIONS, key) ? OPTIONS[key] : undefined;
      const takesValue = spec !== undefined && !/boolean/.test(spec.expect);
      if (takesValue && i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
      else value = '';
    }
    (out[key] ??= []).push(value);
  }
  return out;
}

/** The catch-up bar on a terminal; log lines are printed above it while it shows. */
export class ProgressView {
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  constructor(private readonly out: NodeJS.WriteStream) {}

  write(line: string): void {
    if (this.multi) this.multi.log(line.endsWith('\n') ? line : line + '\n');
    else this.out.write(line);
  }

  update(p: {
    headers: number;
    blocks: number;
    syncing: boolean;
    estimatedSecondsLeft: number | null;
  }): void {
    if (!p.syncing || p.headers <= p.blocks) {
      this.stop();
      return;
    }
    const eta = p.estimatedSecondsLeft === null ? '?' : formatEta(p.estimatedSecondsLeft);
    if (!this.multi) {
      this.multi = new cliProgress.MultiBar(
        {
          format: 'catching up [{bar}] {percentage}% | block {value}/{total} | {eta_text} left',
          hideCursor: true,
          clearOnComplete: true,
          stream: this.out,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.multi.create(p.headers, p.blocks, { eta_text: eta });
    }
    this.bar!.setTotal(p.headers);
    this.bar!.update(p.blocks, { eta_text: eta });
  }

  stop(): void {
    this.multi?.stop();
    this.multi = null;
    this.bar = null;
  }
}

function stripUndefined(f: Flags): Flags {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
}

function formatEta(s: number): string {
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

export function addNodeCommand(program: Command, io: CliIO, globals: () => GlobalNodeOpts): void {
  program
    .command('node')
    .description('run the full node (stop it with Ctrl-C, SIGTERM or `tally rpc stop`)')
    .option('--port <port>', 'P2P listen port (default: the network default)')
    .option('--bind <address>', 'P2P listen address (default 127.0.0.1; 0.0.0.0 for all)', collect)
    .option('--rpcbind <address>', 'RPC listen address (needs --rpcallowip beyond loopback)', collect)
    .option('--rpcallowip <subnet>', 'allow RPC clients from this address or subnet', collect)
    .option('--connect <url>', 'connect only to this peer (repeatable)', collect)
    .option('--addnode <url>', 'also connect to this peer (repeatable)', collect)
    .option('--mine', "mine blocks, paid to the wallet's address or --mine-address")
    .option('--threads <n>', 'mining threads (default: one per core)')
    .option('--mine-address <address>', 'address paid by mined blocks')
    .option(
      '--minerkernel <name>',
      'nonce kernel: native-avx512, native-sha-ni, native-avx2, native-scalar, wasm-simd or js',
    )
    .option('--stratum <port>', 'serve Stratum v1 miners on this port (tally mine --pool, cpuminer, ASICs)')
    .option('--stratumbind <address>', 'Stratum listen address (default 127.0.0.1)')
    .option('--stratumdifficulty <d>', 'starting share difficulty of a Stratum connection (default 0.001)')
    .option('--dbcache <MiB>', 'database cache in MiB (default 450)')
    .option('--maxconnections <n>', 'maximum peer connections (default 125)')
    .option('--daemon', 'run in the background')
    .addOption(
      new Option(
        '--debug [category]',
        `log a category at debug level (repeatable): ${LOG_CATEGORIES.join(', ')}, or Core's names ` +
          `(validation, zmq, http, ...); --debug alone: all`,
      )
        .preset('all')
        .argParser(collect),
    )
    .option('--loglevel <level>', 'trace, debug, info, warn, error or fatal (default info)')
    .option('--printtoconsole <bool>', 'also log to the console (default 1)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      'after',
      '\nAny tally.conf key is also a flag: --txindex, --rest=1, --blocknotify="cmd %s", --nolisten\n' +
        "(Core's single-dash spelling -txindex works too). See docs/configuration.md.",
    )
    .action(async (o: NodeFlags, cmd: Command) => {
      const { StartAborted, TallyNode } = await import('../node/node.js');
      const flags = { ...genericFlags(cmd.args), ...stripUndefined(nodeFlags(globals(), o)) };
      const config = loadConfig(flags);
      if (config.daemon) {
        const args = process.argv.slice(1).filter((a) => a !== '--daemon' && a !== '--daemon=1');
        const child = spawn(process.execPath, [...args, '--printtoconsole', '0'], {
          detached: true,
          stdio: 'ignore',
        });
        child.unref();
        io.stdout.write(
          `Tally node started in the background (pid ${child.pid}); logs in ${config.networkDir}/debug.log\n`,
        );
        return;
      }
      const stdout = consoleFor(io.stdout);
      const view = stdout.isTTY ? new ProgressView(io.stdout as NodeJS.WriteStream) : null;
      let resolveDone!: (err?: unknown) => void;
      const done = new Promise<unknown>((r) => (resolveDone = r));
      // Signals count from the first moment: one that arrives while the node starts aborts the
      // start-up (everything opened so far is closed, .cookie and .lock removed).
      const aborted = new AbortController();
      let node: TallyNode | undefined;
      const onSignal = () => {
        if (node) void node.stop();
        else aborted.abort(new StartAborted());
      };
      // SIGHUP reopens debug.log (log rotation, as Core). It is also what a closed terminal sends:
      // a node that had a controlling terminal and has none left stops cleanly, as a foreground
      // program whose terminal went away should (run --daemon to outlive the session).
      const hadTerminal = hasControllingTerminal();
      const onHangup = () => {
        if (hadTerminal && !hasControllingTerminal()) {
          node?.log.warn('terminal closed (SIGHUP); stopping');
          onSignal();
        } else node?.reopenLog();
      };
      stdout.whenClosed((code) => {
        view?.stop();
        node?.log.warn({ code }, 'console closed; logging to debug.log only');
      });
      // A failure no part handled (a corrupt database found while running, a bug) stops the node
      // cleanly, flushing what is safe, instead of leaving it half-working.
      let fatal: unknown;
      const onFatal = (e: unknown) => {
        // A closed console is the console's business, not a reason to stop.
        if (isConsoleGone(e)) return;
        // A full disk is already stopping the node with its own line (TallyNode.abort).
        if (node && e instanceof DiskFullError) return node.abort(e);
        if (fatal !== undefined) return;
        fatal = e;
        if (!node) return aborted.abort(e);
        node.log.fatal({ err: e }, 'fatal error; stopping');
        node.alert(`fatal error, stopping: ${e instanceof Error ? e.message : String(e)}`);
        void node.stop();
      };
      // A node started with an IPC channel (`tally devnet`'s children) belongs to that parent: when
      // the channel closes, the parent is gone (even SIGKILLed, which signals no child), so stop.
      const supervised = process.channel !== undefined;
      const onParentGone = () => {
        node?.log.warn('parent process gone (IPC channel closed); stopping');
        onSignal();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', onHangup);
      if (supervised) process.on('disconnect', onParentGone);
      process.on('uncaughtException', onFatal);
      process.on('unhandledRejection', onFatal);
      const detach = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onHangup);
        process.off('disconnect', onParentGone);
        process.off('uncaughtException', onFatal);
        process.off('unhandledRejection', onFatal);
      };
      // Everything the node creates is owner-only (Core's umask 077): keys, cookie, peers, log.
      process.umask(0o077);
      try {
        node = await TallyNode.start(config, {
          console: {
            write: (l) => (view && stdout.closed === null ? view.write(l) : stdout.write(l)),
            isTTY: stdout.isTTY,
          },
          onStopped: (err) => resolveDone(err),
          signal: aborted.signal,
        });
      } catch (e) {
        detach();
        if (e instanceof StartAborted) {
          stdout.write('Tally stopped during start-up\n');
          return;
        }
        throw e;
      }
      const timer = view
        ? setInterval(() => stdout.closed === null && view.update(node.progress), 1000)
        : undefined;
      const stopErr = await done;
      const err = fatal ?? stopErr;
      if (timer) clearInterval(timer);
      view?.stop();
      detach();
      // Whatever a part left behind (a timer, a worker) must not keep a stopped node's process up.
      setTimeout(() => process.exit(process.exitCode ?? (err ? 1 : 0)), 2000).unref();
      if (err) throw err instanceof Error ? err : new Error(inspect(err));
    });
}

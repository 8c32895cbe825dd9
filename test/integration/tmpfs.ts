// A small tmpfs for disk-full tests, mounted without root: `unshare -rm` gives a holder process
// its own user and mount namespaces, in which it mounts a tmpfs of the asked size over a temp
// folder and then sleeps. Nodes run inside that namespace through `nsenter` (the same pid: nsenter
// only forks for a pid namespace), and this process reaches the files as /proc/HOLDER/root/PATH.
// Where unshare or nsenter is missing or refused (no unprivileged user namespaces), mount()
// returns the reason, for the test to skip with.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Wrap } from './cluster.js';

export class Tmpfs {
  private constructor(
    readonly dir: string,
    private readonly holder: ChildProcess,
  ) {}

  /** Mounts a tmpfs of `sizeMB` MiB; a string is why it cannot be done here. */
  static async mount(sizeMB: number): Promise<Tmpfs | string> {
    for (const tool of ['unshare', 'nsenter']) {
      const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
      if (r.error || r.status !== 0) return `${tool} is not available`;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tally-tmpfs-'));
    const holder = spawn(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        `mount -t tmpfs -o size=${sizeMB}m,mode=0700 tally "$0" && echo mounted && exec sleep 3600`,
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    holder.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ok = await new Promise<boolean>((resolve) => {
      holder.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('mounted')) resolve(true);
      });
      holder.once('exit', () => resolve(false));
      holder.once('error', () => resolve(false));
    });
    if (!ok) {
      rmSync(dir, { recursive: true, force: true });
      return `cannot mount a tmpfs in a user namespace: ${err.trim() || 'unshare failed'}`;
    }
    return new Tmpfs(dir, holder);
  }

  /** Where this process sees `path` of the tmpfs's namespace. */
  view(path: string): string {
    return join(this.root, path);
  }

  private get root(): string {
    return `/proc/${this.holder.pid}/root`;
  }

  /** Start options that run a node inside the namespace. */
  get wrap(): Wrap {
    return {
      prefix: ['nsenter', '-t', String(this.holder.pid), '-U', '-m', '--preserve-credentials'],
      root: this.root,
    };
  }

  /** Ends the holder (by its pid): the namespace and the tmpfs go with the last process in it. */
  close(): void {
    this.holder.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

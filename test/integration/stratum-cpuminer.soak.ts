// pooler/cpuminer (an implementation of Stratum that is not ours) against a node's Stratum port:
// its shares are accepted and become regtest blocks. Needs a hand-built minerd (docs/mining.md):
// `CPUMINER=/path/to/minerd npm run soak -- stratum-cpuminer`; skipped without it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getParams } from '../../src/consensus/params.js';
import { encodeAddress } from '../../src/primitives/address.js';
import { startNode, stopAll, waitFor, type TallyProcess } from './cluster.js';

const ADDR = encodeAddress('pubkeyhash', new Uint8Array(20).fill(5), getParams('regtest').prefixes);
const minerd = process.env.CPUMINER;

describe(
  'cpuminer against the Stratum server',
  { skip: minerd ? false : 'set CPUMINER=/path/to/minerd' },
  () => {
    let a: TallyProcess;
    after(() => stopAll());

    it('mines 10 blocks the node accepts, all shares accepted', async () => {
      a = await startNode({ args: ['--stratum', '0'] });
      const port = Number(/stratum listening .*port=(\d+)/.exec(a.output)?.[1]);
      const child = spawn(
        minerd!,
        ['-a', 'sha256d', '-o', `stratum+tcp://127.0.0.1:${port}`, '-u', `${ADDR}.cpu`, '-p', 'x', '-t', '1'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await waitFor(
          async () => (await a.rpc<number>('getblockcount')) >= 10,
          60_000,
          () => `10 blocks\n${out}`,
        );
      } finally {
        child.kill('SIGINT');
      }
      assert.doesNotMatch(out, /rejected|booooo/i, out);
      const info = await a.rpc<{ workers: { name: string; blocks: number; rejected: number }[] }>(
        'getstratuminfo',
      );
      const w = info.workers.find((x) => x.name === `${ADDR}.cpu`);
      assert.ok(w && w.blocks >= 10 && w.rejected === 0, JSON.stringify(info));
    });
  },
);

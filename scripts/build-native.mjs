// The install step (`npm ci`, `npm install`): builds the native SHA-256d addon (native/, binding.gyp)
// with node-gyp. The addon is optional: when there is no compiler or no Node headers, this says so
// in one line and exits 0, and the miner runs the WebAssembly kernel instead (src/mining/hasher.ts).
// TALLY_NATIVE=0 skips the build. Node's own headers are used when the install has them, so the
// build needs no network.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.env.TALLY_NATIVE === '0') {
  console.log('tally: native sha256d kernel not built (TALLY_NATIVE=0); mining uses WebAssembly');
  process.exit(0);
}
const args = ['rebuild', '--release'];
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
// npm names its bundled node-gyp to install scripts; otherwise one on PATH.
const gyp = process.env.npm_config_node_gyp;
const res = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  : spawnSync('node-gyp', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', shell: true });
if (res.status === 0) {
  console.log('tally: native sha256d kernel built (build/Release/tally_sha256d.node)');
} else {
  // The first complaint of the compiler, make or node-gyp, not gyp's closing boilerplate.
  const lines = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => /error|not found|ENOENT|EACCES/i.test(l) && !/^gyp ERR! stack/.test(l));
  const why = res.error?.message ?? cause ?? (lines.filter(Boolean).pop() || 'no output');
  console.log(`tally: native sha256d kernel not built (${why}); mining uses WebAssembly`);
}
process.exit(0);

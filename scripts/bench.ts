// `npm run bench -- NAME [args]`: runs scripts/bench/NAME.ts (compiled). Each benchmark prints its
// figures beside a reference measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(join(here, `${name}.js`))) as { run(args: string[]): Promise<void> };
await mod.run(args);

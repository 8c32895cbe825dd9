#!/usr/bin/env node
// The `tally` command. Owns: parsing the command line and printing results. Does not own any
// node logic; it reaches a running node over RPC or starts one through node/.
import { Command } from 'commander';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program.name('tally').description('Tally: full node, miner and wallet').version(pkg.version);
  return program;
}

buildProgram().parse(process.argv);

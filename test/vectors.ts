// Where the shared conformance vectors live: ../shared/vectors beside the checkout. Tests read them
// from there and never copy them into the project.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/vectors.js, so the checkout root is two levels up.
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VECTORS = resolve(REPO_ROOT, '..', 'shared', 'vectors');

export function vectorPath(...parts: string[]): string {
  return join(VECTORS, ...parts);
}

export function readVector(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(...parts)));
}

export function readVectorJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(vectorPath(...parts), 'utf8')) as T;
}

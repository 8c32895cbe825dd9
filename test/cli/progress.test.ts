import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressView } from '../../src/cli/node-command.js';

function fakeTerminal() {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
  s.isTTY = true;
  s.columns = 120;
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

test('the catch-up bar shows blocks of headers and time left, prints log lines above it, and goes away when caught up', async () => {
  const t = fakeTerminal();
  const view = new ProgressView(t.stream);
  view.update({ headers: 2000, blocks: 500, syncing: true, estimatedSecondsLeft: 120 });
  view.write('12:00:00.000 INFO  [net] a log line\n');
  view.update({ headers: 2000, blocks: 1500, syncing: true, estimatedSecondsLeft: 40 });
  await new Promise((r) => setTimeout(r, 150));
  const shown = t.text();
  assert.match(shown, /block 1500\/2000/);
  assert.match(shown, /40s left/);
  assert.match(shown, /a log line/);
  view.update({ headers: 2000, blocks: 2000, syncing: false, estimatedSecondsLeft: 0 });
  const before = t.text().length;
  view.write('after\n');
  assert.equal(t.text().slice(before), 'after\n', 'without a bar, lines go straight to the terminal');
});

// Reading a passphrase: hidden input on a terminal, the first line of stdin otherwise (scripts).
import type { Readable, Writable } from 'node:stream';

export async function readPassphrase(
  question: string,
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown },
  output: Writable,
): Promise<string> {
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') {
    let text = '';
    for await (const chunk of input) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    return text.split(/\r?\n/)[0];
  }
  output.write(question);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      input.setRawMode!(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

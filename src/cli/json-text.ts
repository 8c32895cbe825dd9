// JSON text handled as text: re-indenting a reply and cutting its "result" out without parsing
// the numbers, so amounts print as the node sent them (1.50000000, as bitcoin-cli shows them;
// JSON.parse would give 1.5) and integers above 2^53 keep every digit. The input is a reply the
// client has already parsed successfully, so it is valid JSON; nothing here validates it.

interface Token {
  text: string;
  start: number;
  end: number;
}

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+)/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    const end = TOKEN.lastIndex;
    out.push({ text: m[1], start: end - m[1].length, end });
  }
  return out;
}

/** The same layout as JSON.stringify(value, null, indent), literals copied verbatim. */
export function prettyJsonText(text: string, indent = 2): string {
  const toks = tokenize(text).map((t) => t.text);
  let depth = 0;
  let out = '';
  const newline = () => '\n' + ' '.repeat(depth * indent);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t === '{' || t === '[') {
      const close = t === '{' ? '}' : ']';
      if (toks[i + 1] === close) {
        out += t + close;
        i++;
        continue;
      }
      depth++;
      out += t + newline();
    } else if (t === '}' || t === ']') {
      depth--;
      out += newline() + t;
    } else if (t === ',') out += ',' + newline();
    else if (t === ':') out += ': ';
    else out += t;
  }
  return out;
}

/** The raw text of the top-level object's "result" member, or undefined when it has none. */
export function resultText(body: string): string | undefined {
  const toks = tokenize(body);
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].text;
    if (t === '{' || t === '[') depth++;
    else if (t === '}' || t === ']') depth--;
    else if (depth === 1 && t.startsWith('"') && toks[i + 1]?.text === ':' && JSON.parse(t) === 'result') {
      const first = i + 2;
      let d = 0;
      for (let j = first; j < toks.length; j++) {
        const u = toks[j].text;
        if (u === '{' || u === '[') d++;
        else if (u === '}' || u === ']') d--;
        if (d === 0) return body.slice(toks[first].start, toks[j].end);
      }
    }
  }
  return undefined;
}

/**
 * The request of a copy-paste `curl` line as the dashboard writes it (words plain or in
 * POSIX single quotes, `'\''` for a quote inside one), so that the browser test sends
 * exactly what a user pasting the line would.
 */

/** The words of a shell line that uses only single quotes, as `sh` would split it. */
export function shellWords(line) {
  const words = [];
  let word = null;
  for (let at = 0; at < line.length; at += 1) {
    const char = line[at];
    if (char === "'") {
      const close = line.indexOf("'", at + 1);
      if (close < 0) throw new Error(`unterminated quote in ${line}`);
      word = (word ?? '') + line.slice(at + 1, close);
      at = close;
    } else if (char === '\\' && at + 1 < line.length) {
      word = (word ?? '') + line[at + 1];
      at += 1;
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (/["$`]/.test(char)) {
      throw new Error(`${char} in a curl line: only single quotes are expected (${line})`);
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** `curl -X M URL -H 'K: V' ... -d BODY` as `{ method, url, headers, body }` for fetch. */
export function curlRequest(line) {
  const [command, ...args] = shellWords(line);
  if (command !== 'curl') throw new Error(`not a curl line: ${line}`);
  const request = { method: 'GET', url: undefined, headers: {}, body: undefined };
  for (let at = 0; at < args.length; at += 1) {
    const arg = args[at];
    if (arg === '-X') request.method = args[++at];
    else if (arg === '-H') {
      const header = args[++at];
      const colon = header.indexOf(':');
      request.headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (arg === '-d') {
      request.body = args[++at];
      if (request.method === 'GET') request.method = 'POST';
    } else if (arg.startsWith('-')) throw new Error(`curl option ${arg} is not understood here`);
    else request.url = arg;
  }
  if (!request.url) throw new Error(`no URL in ${line}`);
  return request;
}

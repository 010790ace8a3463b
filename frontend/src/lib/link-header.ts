/**
 * Reads an RFC 8288 `Link` header into its targets by relation type:
 * `<https://x/api/devices/?cursor=b>; rel="next", </p1>; rel="prev first"` gives
 * `{ next: 'https://x/api/devices/?cursor=b', prev: '/p1', first: '/p1' }`.
 * The first link of a relation wins; links without `rel` are left out.
 */
export function parseLinkHeader(header: string | null | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  let at = 0;
  while (at < header.length) {
    const open = header.indexOf('<', at);
    if (open < 0) break;
    const close = header.indexOf('>', open);
    if (close < 0) break;
    const target = header.slice(open + 1, close).trim();
    // The parameters run to the next comma outside a quoted string.
    let end = close + 1;
    let quoted = false;
    while (end < header.length && (quoted || header[end] !== ',')) {
      if (header[end] === '"') quoted = !quoted;
      end += 1;
    }
    for (const type of relationTypes(header.slice(close + 1, end))) {
      if (!(type in links)) links[type] = target;
    }
    at = end + 1;
  }
  return links;
}

/** The space-separated values of a link's `rel` parameter, lower-cased. */
function relationTypes(params: string): string[] {
  const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(params);
  if (!rel) return [];
  return (rel[1] ?? rel[2]).trim().toLowerCase().split(/\s+/).filter(Boolean);
}

/**
 * Spellings of one URL path that a router, a proxy or an access check may read differently:
 * percent-encoding of every character (upper-case hex; lower-case hex and encoded twice for the
 * first character of each segment, where prefix tests look), every character encoded at once, an
 * encoded or doubled slash, dot segments (plain and encoded), case, trailing slashes and dots, a
 * `;` parameter, and an encoded NUL.
 */
export function pathVariants(path: string): string[] {
  const out = new Set<string>();
  const hex = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    const before = path.slice(0, i);
    const after = path.slice(i + 1);
    out.add(`${before}%${hex(c).toUpperCase()}${after}`);
    if (i > 0 && path[i - 1] === '/') {
      out.add(`${before}%${hex(c).toLowerCase()}${after}`);
      out.add(`${before}%25${hex(c).toUpperCase()}${after}`);
    }
    if (c === '/') {
      out.add(`${before}//${after}`);
      out.add(`${before}/./${after}`);
      out.add(`${before}/%2e/${after}`);
      out.add(`${before}/x/../${after}`);
      out.add(`${before}/x/%2e%2e/${after}`);
      out.add(`${before}\\${after}`);
    }
  }
  out.add(path.replace(/[^/]/g, (c) => `%${hex(c).toUpperCase()}`));
  out.add(path.toUpperCase());
  out.add(path.replace(/\/(.)/g, (_m, first: string) => `/${first.toUpperCase()}`));
  for (const suffix of ['/', '//', '/.', '/..', '%2F', ';x', '%00', '%20', '.json']) out.add(path + suffix);
  out.add(`/.${path}`);
  out.add(`//${path}`);
  out.delete(path);
  return [...out];
}

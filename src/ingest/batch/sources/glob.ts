/**
 * Glob patterns for `source.path`, the same for local paths and S3 keys: `*` and `?` match within
 * one path segment, `**` matches any number of segments, `{a,b}` alternatives, `[abc]` classes.
 */

const GLOB_CHARS = /[*?[{]/;

/** True when the path has glob syntax (otherwise it names one file). */
export function hasGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

/**
 * The literal directory part before the first segment with glob syntax: where a listing starts.
 * `data/2024/*.jsonl` → `data/2024/`; `data/**` → `data/`; `a.jsonl` → `a.jsonl`.
 */
export function globBase(pattern: string): string {
  const segments = pattern.split('/');
  const index = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  if (index === -1) return pattern;
  return segments
    .slice(0, index)
    .map((s) => `${s}/`)
    .join('');
}

/** Compiles a glob to an anchored regular expression over `/`-separated paths. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let inGroup = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a trailing `**` matches everything below.
        const slash = pattern[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close === -1) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body}]`;
        i = close;
      }
    } else if (c === '{') {
      inGroup++;
      out += '(?:';
    } else if (c === '}' && inGroup > 0) {
      inGroup--;
      out += ')';
    } else if (c === ',' && inGroup > 0) {
      out += '|';
    } else {
      out += c.replace(/[.+^$()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** Tag patterns (DESIGN §2): `/`-separated segments, `+` one segment, `#` the rest, or `re:<regex>`. */
export type ParsedPattern = { kind: 'segments'; segments: string[] } | { kind: 're'; re: RegExp };

export class PatternError extends Error {}

export function parsePattern(pattern: string): ParsedPattern {
  if (pattern.startsWith('re:')) {
    try {
      return { kind: 're', re: new RegExp(pattern.slice(3)) };
    } catch (e) {
      throw new PatternError(`bad regular expression: ${(e as Error).message}`);
    }
  }
  const segments = pattern.split('/');
  segments.forEach((s, i) => {
    if (s === '') throw new PatternError(`empty segment in '${pattern}'`);
    if (s === '#' && i !== segments.length - 1) throw new PatternError(`'#' may only be the last segment`);
    if (s.length > 1 && (s.includes('+') || s.includes('#'))) {
      throw new PatternError(`wildcards '+' and '#' stand alone as a whole segment in '${pattern}'`);
    }
    if (/\s/.test(s)) throw new PatternError(`whitespace in '${pattern}'`);
  });
  return { kind: 'segments', segments };
}

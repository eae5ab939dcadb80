import safeRegex from 'safe-regex2';
import { errors } from '../errors.js';

/** Tag patterns (DESIGN §2): `/`-separated segments, `+` one segment, `#` the rest, or `re:<regex>`. */
export type ParsedPattern = { kind: 'segments'; segments: string[] } | { kind: 're'; re: RegExp };

export function parsePattern(pattern: string): ParsedPattern {
  if (pattern.startsWith('re:')) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(3));
    } catch (e) {
      throw errors.PATTERN_INVALID(`bad regular expression: ${(e as Error).message}`);
    }
    // Nested repetition such as (a+)+ can take exponential time on a short tag and freeze the agent.
    if (!safeRegex(re))
      throw errors.PATTERN_INVALID(
        `'${pattern}' nests repetitions (like (a+)+) and could take exponential time on some tags; rewrite it without the nesting`,
      );
    return { kind: 're', re };
  }
  const segments = pattern.split('/');
  segments.forEach((s, i) => {
    if (s === '') throw errors.PATTERN_INVALID(`empty segment in '${pattern}'`);
    if (s === '#' && i !== segments.length - 1)
      throw errors.PATTERN_INVALID(`'#' may only be the last segment`);
    if (s.length > 1 && (s.includes('+') || s.includes('#'))) {
      throw errors.PATTERN_INVALID(`wildcards '+' and '#' stand alone as a whole segment in '${pattern}'`);
    }
    if (/\s/.test(s)) throw errors.PATTERN_INVALID(`whitespace in '${pattern}'`);
  });
  return { kind: 'segments', segments };
}

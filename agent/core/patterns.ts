import safeRegex from 'safe-regex2';
import { errors } from './errors.js';

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

/** Whether `a|b` splits the whole pattern (not only a group or a class). */
function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/**
 * The whole tag segments every match of an anchored regex must start with (`^vehicle/s12/t[0-3]$`
 * gives `vehicle/s12`), so the bus can look the pattern up by them instead of trying it on every
 * event; '' when there are none (not anchored, an alternation, a wildcard in the first segment).
 */
export function literalSegments(re: RegExp): string {
  const src = re.source;
  if (!src.startsWith('^') || hasTopLevelAlternation(src) || re.flags.includes('i')) return '';
  let lit = '';
  for (let i = 1; i < src.length; i++) {
    let c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined || /[A-Za-z0-9]/.test(n)) break; // \d, \w …: a class, not a character
      c = n;
      i++;
    } else if (!/[A-Za-z0-9_/-]/.test(c)) break;
    const next = src[i + 1];
    if (next === '*' || next === '?' || next === '{') break; // optional: not part of every match
    lit += c;
    if (next === '+') break;
  }
  const end = lit.lastIndexOf('/');
  return end > 0 ? lit.slice(0, end) : '';
}

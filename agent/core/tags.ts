/** An event tag (DESIGN §2): `/`-separated segments of lowercase letters, digits, `_` and `-`. */
export const TAG_RE = /^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/;

export const isTag = (s: string): boolean => s.length <= 256 && TAG_RE.test(s);

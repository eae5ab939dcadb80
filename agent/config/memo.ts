import type { RuleT } from '../reactor/schema.js';
import type { SchemaProblem } from './schema-issues.js';
import type { LNode, ParsedYaml } from './yaml-source.js';

/** A file's text as last read, and its tree. */
export interface KeptTree {
  text: string;
  node: LNode;
  /** Whether a node may stand for more than itself (anchors, aliases): then no part is parsed alone. */
  linked: boolean;
}

/** Numbers JSON cannot write (`.nan`, `.inf` in YAML) kept apart from null in a rule's key. */
const keyed = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}` : v);

/**
 * What one load of a config hands the next (a reloader keeps one): each file's parse tree while its
 * text stays the same, and, by what a rule says, the rule as validated and its semantic problems.
 * A reload then parses only the files that changed, and validates and checks only the rules that
 * changed, wherever they moved. A file's tree changes only when the file's next text is spliced
 * into it (`spliceYaml`): its nodes after the edit move to their new lines, and it is that text's tree.
 */
export class ConfigMemo {
  private readonly trees = new Map<string, KeptTree>();
  private readonly keys = new WeakMap<LNode, string>();
  /** A rule as written (plain data, frozen: loads share it), by its node. */
  readonly values = new WeakMap<LNode, unknown>();
  /** The last load's rules as validated (frozen), by key. */
  rules = new Map<string, RuleT>();
  /** The last load's rules' semantic problems (paths below the rule), by key, valid for one context (`ctx`). */
  checks = new Map<string, { ctx: string; problems: SchemaProblem[] }>();

  /** The tree `file` had when its text was `text`, if it is still that. */
  tree(file: string, text: string): LNode | undefined {
    const have = this.trees.get(file);
    return have?.text === text ? have.node : undefined;
  }

  /** The tree kept for `file`, whatever its text is now: a changed file's parts that did not change are taken from it. */
  earlier(file: string): KeptTree | undefined {
    return this.trees.get(file);
  }

  /**
   * Keeps a file's tree: only one parsed cleanly and without `${env:…}` (whose values may change).
   * Another forgets the file's tree before, which a splice may have moved to this text's lines.
   */
  keep(file: string, text: string, { node, linked }: ParsedYaml): void {
    if (node && !text.includes('${env:')) this.trees.set(file, { text, node, linked });
    else this.trees.delete(file);
  }

  /** What the rule at `node` says, as a key (equal keys, equal rules): worked out once per node. */
  key(node: LNode, raw: unknown): string {
    let k = this.keys.get(node);
    if (k === undefined) {
      // JSON writes a non-finite number as null: only a rule whose plain key has a null can hold one,
      // and only it pays for the replacer (twice as slow).
      k = JSON.stringify(raw);
      if (k.includes('null')) k = JSON.stringify(raw, keyed);
      this.keys.set(node, k);
    }
    return k;
  }
}

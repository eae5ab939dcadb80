import type { RuleT } from '../reactor/schema.js';
import type { SchemaProblem } from './schema-issues.js';
import type { LNode } from './yaml-source.js';

/**
 * What one load of a config hands the next (a reloader keeps one): each file's parse tree while its
 * text stays the same, and, keyed by a rule's node in such a tree, the rule as validated and its
 * semantic problems. A reload then parses, validates and checks only what changed; the trees are
 * never modified after parsing, so a node stands for the same text for as long as it lives.
 */
export class ConfigMemo {
  private readonly trees = new Map<string, { text: string; node: LNode }>();
  /** A rule as written (plain data, frozen: loads share it), by its node. */
  readonly values = new WeakMap<LNode, unknown>();
  /** A rule's parsed value (frozen), by its node. */
  readonly rules = new WeakMap<LNode, RuleT>();
  /** A rule's semantic problems (paths below the rule), by its node, valid for one context (`ctx`). */
  readonly checks = new WeakMap<LNode, { ctx: string; problems: SchemaProblem[] }>();

  /** The tree `file` had when its text was `text`, if it is still that. */
  tree(file: string, text: string): LNode | undefined {
    const have = this.trees.get(file);
    return have?.text === text ? have.node : undefined;
  }

  /** Keeps a file's tree: only one parsed cleanly and without `${env:…}` (whose values may change). */
  keep(file: string, text: string, node: LNode): void {
    if (!text.includes('${env:')) this.trees.set(file, { text, node });
  }
}

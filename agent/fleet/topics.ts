import { errors } from '../core/errors.js';

/**
 * A fleet's units under a topic filter (`--prefix 'pitcrew/+'`, as `cloud.topic_prefix` makes
 * them): each `+` is a part of a unit's id, so `pitcrew/van-042/online` is unit `van-042` whose
 * prefix is `pitcrew/van-042`.
 */
export class FleetTopics {
  private readonly parts: string[];
  private readonly wild: number[];

  constructor(readonly filter: string) {
    this.parts = filter.split('/');
    this.wild = this.parts.flatMap((p, i) => (p === '+' ? [i] : []));
    if (!this.wild.length || this.parts.some((p) => p === '#' || (p !== '+' && /[+#]/.test(p))))
      throw errors.CLI_ARG(
        `--prefix ${filter}: a topic prefix with a + where each unit's id goes, such as 'pitcrew/+'`,
      );
  }

  /** The filter for one topic of every unit: `pitcrew/+/ack`. */
  each(leaf: string): string {
    return `${this.filter}/${leaf}`;
  }

  /** The unit a topic belongs to and the topic's last part, or undefined when it is not a unit's. */
  unitOf(topic: string): { id: string; prefix: string; leaf: string } | undefined {
    const t = topic.split('/');
    if (t.length !== this.parts.length + 1) return undefined;
    for (let i = 0; i < this.parts.length; i++)
      if (this.parts[i] !== '+' && this.parts[i] !== t[i]) return undefined;
    return {
      id: this.wild.map((i) => t[i]).join('/'),
      prefix: t.slice(0, -1).join('/'),
      leaf: t.at(-1)!,
    };
  }

  /** A unit's prefix from its id (a unit listed in a file that the broker has not seen yet). */
  prefixOf(id: string): string {
    const ids = id.split('/');
    if (ids.length !== this.wild.length)
      throw errors.CLI_ARG(`unit ${id}: --prefix ${this.filter} takes ids of ${this.wild.length} part(s)`);
    const out = [...this.parts];
    this.wild.forEach((w, i) => {
      out[w] = ids[i]!;
    });
    return out.join('/');
  }
}

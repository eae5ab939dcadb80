import fc from 'fast-check';

/** A structural mutation: at the `pick`th key or index of a document, `value` put in, or (`drop`) the key removed. */
export const mutation = fc.record({
  pick: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  drop: fc.boolean(),
});

/** Applies `m` to `doc` in place (an index of a list is replaced, never dropped). */
export function mutate(doc: unknown, m: { pick: number; value: unknown; drop: boolean }): void {
  const slots: [Record<string | number, unknown>, string | number][] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
      walk(x);
    }
  };
  walk(doc);
  const [holder, key] = slots[m.pick % slots.length]!;
  if (m.drop && !Array.isArray(holder)) delete holder[key];
  else holder[key] = m.value;
}

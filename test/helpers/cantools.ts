/** cantools' `decode` output, as the CAN fixtures keep it (test/fixtures/can/SOURCE.md). */

/** cantools' decode output: `… :: Message(Sig: value, …)`, one frame a line or spread over lines. */
export function cantoolsDecoded(text: string): (Record<string, string> | string | undefined)[] {
  return text
    .replace(
      /::\s*\n(\w+)\(\n([\s\S]*?)\n\)/g,
      (_, m: string, body: string) => `:: ${m}(${body.trim().replace(/,?\n\s*/g, ', ')})`,
    )
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const after = l.split(' :: ')[1];
      const m = after && /^\w+\((.*)\)$/.exec(after);
      if (!m) return after;
      return Object.fromEntries(m[1]!.split(', ').map((kv) => kv.split(': ') as [string, string]));
    });
}

/** cantools ran with --prune: a choice name loses the prefix its choices share (`IO_DEBUG_test2_enum_two` → `two`). */
export const sameAsCantools = (got: unknown, want: string) =>
  typeof got === 'number'
    ? Math.abs(got - Number(want)) < 1e-9
    : got === want || String(got).endsWith(`_${want}`);

/** One line per figure: the value, the target or baseline, their ratio, and whether it meets it. */
export function report(
  name: string,
  value: number,
  unit: string,
  target: number,
  better: 'lower' | 'higher',
): void {
  const ratio = value / target;
  const ok = better === 'lower' ? value <= target : value >= target;
  console.log(
    `${name}: ${value.toFixed(value < 10 ? 2 : 0)} ${unit} (target ${better === 'lower' ? '<' : '>='} ${target} ${unit}, ratio ${ratio.toFixed(2)}) ${ok ? 'OK' : 'MISSED'}`,
  );
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

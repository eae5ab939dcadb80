/** A trouble code from its two bytes: the top bits give P/C/B/U, then 4 digits (J2012). */
export function dtcCode(a: number, b: number): string {
  return `${'PCBU'[a >> 6]}${((a >> 4) & 3).toString()}${(a & 0xf).toString(16)}${(b >> 4).toString(16)}${(b & 0xf).toString(16)}`.toUpperCase();
}

/**
 * The codes of a mode 03 / 07 / 0A answer (`service` 0x43 / 0x47 / 0x4A), one message per ECU or
 * per line. CAN answers carry a count byte first; older protocols send 3 slots a line, padded
 * with 00 00.
 */
export function dtcCodes(messages: { data: number[] }[], service: number, can: boolean): string[] {
  const codes: string[] = [];
  for (const { data } of messages) {
    if (data[0] !== service) continue;
    const from = can ? 2 : 1;
    const end = can ? Math.min(data.length, from + 2 * (data[1] ?? 0)) : data.length;
    for (let i = from; i + 1 < end; i += 2) {
      if (data[i] === 0 && data[i + 1] === 0) continue;
      const code = dtcCode(data[i]!, data[i + 1]!);
      if (!codes.includes(code)) codes.push(code);
    }
  }
  return codes;
}

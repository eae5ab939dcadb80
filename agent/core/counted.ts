/** `1 file`, `2 files`: a count with its noun, for messages. */
export const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

import type { Readable } from 'node:stream';

/**
 * What a child's stream wrote, as text, no more than its last `chars`: what its failure says,
 * bounded however much it writes (a server's messages relayed by git, an installer's log).
 */
export function tailOf(stream: Readable, chars: number): () => string {
  let tail = '';
  stream.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-chars);
  });
  return () => tail;
}

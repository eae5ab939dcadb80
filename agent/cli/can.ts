import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { readLines, TOO_LONG } from '../core/lines.js';
import { codecsOf } from '../drivers/can/codecs.js';
import { decodeLogLine } from '../drivers/can/log-decode.js';
import { errors } from '../errors.js';

/** Lines about single bad frames before the rest are only counted. */
const SAY_AT_MOST = 20;

const hex = (id: number) => `0x${id.toString(16).toUpperCase().padStart(3, '0')}`;

/** Writes to stdout, waiting when the reader is slower; false once the reader has gone (`| head`). */
function writer() {
  let gone = false;
  process.stdout.on('error', () => {
    gone = true;
  });
  return {
    get gone() {
      return gone;
    },
    async write(text: string): Promise<void> {
      if (!gone && !process.stdout.write(text))
        await new Promise((resolve) => {
          process.stdout.once('drain', resolve);
          process.stdout.once('error', resolve);
        });
    },
  };
}

/** `pitcrew can decode --dbc FILE… LOG`: check a DBC against a log before deploying it. */
export function registerCan(program: Command): void {
  const can = program.command('can').description('offline CAN tools');
  can
    .command('decode')
    .description(
      'decode a candump log with DBC files: one JSON line {t, id, message, signals} per decoded frame',
    )
    .requiredOption('--dbc <files...>', 'DBC files, as the can driver takes them')
    .argument('[log]', 'candump log (-l or screen format; - for stdin); may follow the DBC files')
    .addHelpText(
      'after',
      `
Signals are physical values (scale and offset applied; value tables not). A frame whose id a DBC
knows but whose length it does not match is not decoded, as cantools decode refuses it: each is
said on stderr with its line, and the exit code is 1. Ids no DBC knows are counted.`,
    )
    .action(async (named: string | undefined, opts: { dbc: string[] }) => {
      // `--dbc A.dbc B.dbc drive.log`: the list takes the log too; it is the one that is not a DBC.
      const last = opts.dbc.at(-1)!;
      const tail = named === undefined && opts.dbc.length > 1 && !/\.dbc$/i.test(last);
      const log = named ?? (tail ? last : undefined);
      if (log === undefined) throw errors.CLI_ARG('name the candump log after the DBC files (- for stdin)');
      const { byKey } = codecsOf(tail ? opts.dbc.slice(0, -1) : opts.dbc);
      const input = log === '-' ? process.stdin.setEncoding('utf8') : createReadStream(log, 'utf8');
      const out = writer();
      const counts = { decoded: 0, wrong_size: 0, unknown: 0, error_frames: 0, remote: 0, bad: 0 };
      const unknown = new Map<number, number>();
      let said = 0;
      const say = (n: number, what: string) => {
        if (said++ < SAY_AT_MOST) console.error(`${log}:${n}: ${what}`);
      };
      let n = 0;
      let batch = '';
      for await (const line of readLines(input as AsyncIterable<string>)) {
        n++;
        if (line === TOO_LONG) {
          counts.bad++;
          say(n, 'not a candump line (too long)');
          continue;
        }
        const r = decodeLogLine(byKey, line);
        if (r.kind === 'frame') {
          counts.decoded++;
          batch += `${JSON.stringify(r.frame)}\n`;
          if (batch.length > 64 * 1024) {
            await out.write(batch);
            batch = '';
            if (out.gone) break;
          }
        } else if (r.kind === 'wrong_size') {
          counts.wrong_size++;
          say(n, `${hex(r.id)} ${r.message}: ${r.length} bytes, the DBC says ${r.expected}`);
        } else if (r.kind === 'unknown') {
          counts.unknown++;
          unknown.set(r.id, (unknown.get(r.id) ?? 0) + 1);
        } else if (r.kind === 'bad') {
          counts.bad++;
          say(n, 'not a candump line');
        } else if (r.kind === 'error_frame') counts.error_frames++;
        else if (r.kind === 'remote') counts.remote++;
      }
      await out.write(batch);
      if (out.gone) return;
      const ids = [...unknown]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([id, k]) => `${hex(id)} ×${k}`);
      console.error(
        `${counts.decoded} frames decoded, ${counts.wrong_size} of the wrong size, ${counts.unknown} with ids no DBC knows` +
          `${ids.length ? ` (${ids.join(', ')}${unknown.size > ids.length ? ', …' : ''})` : ''}, ` +
          `${counts.error_frames} error frames, ${counts.remote} remote, ${counts.bad} lines not read`,
      );
      if (counts.wrong_size) process.exitCode = 1;
    });
}

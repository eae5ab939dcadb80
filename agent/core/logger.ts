import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Readable lines on a terminal, JSON lines otherwise; to stderr when stdout carries events. */
export function createLogger(level: string, toStderr: boolean): Logger {
  const fd = toStderr ? 2 : 1;
  const tty = toStderr ? process.stderr.isTTY : process.stdout.isTTY;
  if (tty) {
    return pino(
      { level },
      pretty({
        destination: fd,
        sync: true,
        singleLine: true,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
      }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ fd, sync: false }));
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

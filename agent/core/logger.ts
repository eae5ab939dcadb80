import { type Logger, pino } from 'pino';
import { LogSink } from './log-sink.js';

export type { Logger };

/** The agent's logger, and what a planned exit waits for: its lines written (`LogSink.settled`). */
export interface AgentLog {
  log: Logger;
  settled: () => Promise<void>;
}

/**
 * Readable lines on a terminal, JSON lines otherwise; to stderr when stdout carries events.
 * Written through a LogSink, so a reader that is slow or gone never holds the process.
 */
export async function createLogger(level: string, toStderr: boolean): Promise<AgentLog> {
  const sink = sinkTo(toStderr ? 2 : 1);
  const settled = () => sink.settled();
  const tty = toStderr ? process.stderr.isTTY : process.stdout.isTTY;
  if (tty) {
    // Loaded only for a terminal: a unit's service writes JSON lines.
    const { prettyFactory } = await import('pino-pretty');
    const pretty = prettyFactory({ singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' });
    return { log: pino({ level }, { write: (line: string) => sink.write(pretty(line)) }), settled };
  }
  return { log: jsonLogger(level, sink), settled };
}

/** JSON lines, as a unit's service writes them. */
export function jsonLogger(level: string, sink: LogSink): Logger {
  return pino({ level, base: undefined }, sink);
}

function sinkTo(fd: number): LogSink {
  const sink = new LogSink(fd);
  process.on('exit', () => sink.flushSync());
  return sink;
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

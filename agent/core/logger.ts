import { type Level, type Logger, pino } from 'pino';
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

const S = pino.symbols;
// biome-ignore lint/suspicious/noExplicitAny: pino's per-instance settings live under its own symbols.
type Internals = Record<symbol, any>;

/**
 * Writes one message at `level` as pino would, with no object to merge: the line is
 * pino's own level prefix, time and bindings with the message, written to its stream.
 * A reactor logs per event, where pino's general path (merge object, mixin, hooks) was most of
 * a line's cost. Any logger that shapes its lines (mixin, formatters, hooks, redaction,
 * a prefix or another message key) goes through pino.
 */
export function messageWriter(log: Logger, level: Level): (msg: string) => void {
  const p = log as unknown as Internals;
  const plain =
    !p[S.mixinSym] &&
    !p[S.formattersSym]?.log &&
    !p[S.hooksSym]?.streamWrite &&
    !p[S.hooksSym]?.logMethod &&
    !log.msgPrefix &&
    p[S.messageKeySym] === 'msg' &&
    !p[S.serializersSym]?.msg &&
    Object.keys(p[S.stringifiersSym] ?? {}).length === 0 &&
    !p[S.streamSym]?.[S.needsMetadataGsym];
  if (!plain) return (msg) => log[level](msg);
  const num: number = log.levels.values[level]!;
  const head: string = p[S.lsCacheSym][num];
  const bindings: string = p[S.chindingsSym];
  const end: string = p[S.endSym];
  const time: () => string = p[S.timeSym];
  const stream: { write(line: string): unknown } = p[S.streamSym];
  return (msg) => {
    if (log.isLevelEnabled(level))
      stream.write(`${head}${time()}${bindings},"msg":${JSON.stringify(msg)}${end}`);
  };
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

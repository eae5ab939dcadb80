/**
 * An ELM327 on the far end of a pty pair, with a scripted car behind it. It formats answers the
 * way the adapter does (echo, spaces, headers, linefeeds, SEARCHING..., ISO-TP frames with
 * headers, the `014` / `0:` lines without), written from the response table in
 * fixtures/obd/ELM327-RESPONSES.md and independent of the driver's parser. Faults are switched on
 * per test.
 */
import type { SerialPort } from 'serialport';
import { openSerialPort } from '../../agent/drivers/serial/open-port.js';

export interface Car {
  /** ECU id → mode 01 PID → data bytes. */
  ecus: Record<string, Record<number, number[]>>;
  vin: string;
  dtcs: string[];
  /** Mode 07 codes (pending) and mode 0A codes (permanent). */
  pending: string[];
  permanent: string[];
  volts: string;
  /** Answers STI as an STN chip does. */
  stn?: boolean;
  /** Ignition off: searching finds no protocol. */
  off?: boolean;
}

export const CAR: Car = {
  ecus: {
    '7E8': {
      4: [0x80],
      5: [0x7b],
      12: [0x0a, 0x00],
      13: [0x04],
      17: [0x33],
      47: [0xbf],
      66: [0x31, 0x2d],
      70: [0x3c],
      92: [0x5a],
    },
    '7EA': { 12: [0x0a, 0x00], 5: [0x7b] },
  },
  vin: 'MAT403096BNL00000',
  dtcs: ['P0133', 'U0123', 'C0300'],
  pending: ['P0420'],
  permanent: ['B1234', 'P0133'],
  volts: '13.1V',
};

export interface Faults {
  /** ATE0 does not turn echo off. */
  echoStuck?: boolean;
  /** Answers this late (ms). */
  slow?: number;
  /** Data requests overflow. */
  bufferFull?: boolean;
  /** The next answer has no prompt. */
  noPrompt?: boolean;
  /** The next answer is line noise. */
  garbage?: boolean;
  /** Mode 01 requests are answered for the next PID up. */
  wrongPid?: boolean;
  /** Stays silent to this many lines (as at a wrong baud rate), and counts what it ignored. */
  deafLines?: number;
  /** Bytes already in the adapter's input before the driver's first line (half a line from before). */
  leftover?: string;
  /** Called with half an answer written and the other half held back (to pull the cable there). */
  midReply?: () => void;
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function dtcBytes(code: string): number[] {
  const letter = 'PCBU'.indexOf(code[0]!);
  const d = Number.parseInt(code.slice(1), 16);
  return [(letter << 6) | (d >> 8), d & 0xff];
}

export class ElmEmulator {
  private port?: SerialPort;
  private pending = '';
  private last = '';
  echo = true;
  spaces = true;
  headers = false;
  linefeeds = false;
  searched = false;
  faults: Faults = {};
  /** Silent to lines with characters outside the ELM's own (DEL among them), as ELM327-emulator is. */
  strict = false;
  readonly log: string[] = [];

  constructor(
    readonly path: string,
    readonly car: Car = CAR,
  ) {}

  /**
   * Opens the device end (again, after the pair was unplugged and plugged back). The old port is
   * closed first: a port left open on a vanished pty reads EOF in a busy loop.
   */
  async attach(): Promise<void> {
    await this.close();
    const port = await openSerialPort(this.path, 38400);
    port.on('data', (b: Buffer) => this.input(b.toString('latin1')));
    port.on('error', () => {});
    this.port = port;
  }

  async close(): Promise<void> {
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }

  private input(s: string): void {
    this.pending += (this.faults.leftover ?? '') + s;
    this.faults.leftover = undefined;
    for (let i = this.pending.indexOf('\r'); i >= 0; i = this.pending.indexOf('\r')) {
      const raw = this.pending.slice(0, i);
      this.pending = this.pending.slice(i + 1);
      const cmd = raw.replace(/\s/g, '').toUpperCase() || this.last;
      this.last = cmd;
      this.log.push(cmd);
      this.reply(raw, cmd);
    }
  }

  private reply(raw: string, cmd: string): void {
    if ((this.faults.deafLines ?? 0) > 0) {
      this.faults.deafLines!--;
      return;
    }
    // As ELM327-emulator 3.0.5: a line with characters an ELM does not take gets no answer at all.
    if (this.strict && !/^[a-zA-Z0-9 \n\b\t@,.?]*$/.test(raw)) return;
    const eol = this.linefeeds ? '\r\n' : '\r';
    let lines = this.answer(cmd);
    if (this.faults.garbage) {
      this.faults.garbage = false;
      lines = ['\xff\xfe#!~ 7', '\x00\x13'];
    }
    let out = `${this.echo ? `${raw}${eol}` : ''}${lines.map((l) => l + eol).join('')}${eol}`;
    if (this.faults.noPrompt) this.faults.noPrompt = false;
    else out += '>';
    if (cmd === 'ATE0' && !this.faults.echoStuck) this.echo = false;
    const send = () => {
      const port = this.port;
      if (!port?.isOpen) return;
      const midReply = this.faults.midReply;
      if (midReply && /^0[1-9]/.test(cmd)) {
        this.faults.midReply = undefined;
        port.write(out.slice(0, out.length >> 1), () => midReply());
      } else port.write(out);
    };
    if (this.faults.slow) setTimeout(send, this.faults.slow);
    else send();
  }

  /** The answer's lines, before echo, line ends and prompt. */
  private answer(cmd: string): string[] {
    if (cmd === 'ATZ') {
      Object.assign(this, { echo: true, spaces: true, headers: false, linefeeds: false, searched: false });
      return ['', 'ELM327 v1.5'];
    }
    if (cmd === 'ATI') return ['ELM327 v1.5'];
    if (cmd === 'STI') return [this.car.stn ? 'STN1110 v4.2.1' : '?'];
    if (cmd === 'ATRV') return [this.car.volts];
    if (cmd === 'ATDPN') return [this.searched ? 'A6' : 'A0'];
    if (cmd === 'ATE0' || cmd === 'ATE1') return ['OK'];
    const flag = /^AT([LSH])([01])$/.exec(cmd);
    if (flag) {
      const on = flag[2] === '1';
      if (flag[1] === 'L') this.linefeeds = on;
      if (flag[1] === 'S') this.spaces = on;
      if (flag[1] === 'H') this.headers = on;
      return ['OK'];
    }
    if (/^AT(AT\d|SP[0-9A-C]|SH[0-9A-F]+)$/.test(cmd)) return ['OK'];
    if (!/^[0-9A-F]+$/.test(cmd) || cmd.length % 2) return ['?'];
    if (this.car.off) {
      const first = !this.searched;
      this.searched = true;
      return first ? ['SEARCHING...', 'UNABLE TO CONNECT'] : ['NO DATA'];
    }
    const search = this.searched ? [] : ['SEARCHING...'];
    this.searched = true;
    if (this.faults.bufferFull) return [...search, 'BUFFER FULL'];
    const answers = this.data(cmd);
    if (!answers.length) return [...search, 'NO DATA'];
    return [...search, ...answers.flatMap(([ecu, bytes]) => this.frames(ecu, bytes))];
  }

  /** Each answering ECU and its message, from the service byte on. */
  private data(cmd: string): [string, number[]][] {
    const mode = Number.parseInt(cmd.slice(0, 2), 16);
    const ecus = Object.entries(this.car.ecus);
    if (mode === 1) {
      let pid = Number.parseInt(cmd.slice(2, 4), 16);
      if (pid % 0x20 === 0) return ecus.map(([id, pids]) => [id, [0x41, pid, ...this.bitmap(pids, pid)]]);
      if (this.faults.wrongPid) pid++;
      return ecus.filter(([, pids]) => pids[pid]).map(([id, pids]) => [id, [0x41, pid, ...pids[pid]!]]);
    }
    const engine = ecus[0]![0];
    const codes = { 3: this.car.dtcs, 7: this.car.pending, 10: this.car.permanent }[mode];
    if (codes) return [[engine, [0x40 + mode, codes.length, ...codes.flatMap(dtcBytes)]]];
    if (mode === 4) {
      this.car.dtcs = [];
      return [[engine, [0x44]]];
    }
    if (cmd === '0902') return [[engine, [0x49, 0x02, 0x01, ...Buffer.from(this.car.vin, 'latin1')]]];
    return [[engine, [0x7f, mode, 0x11]]];
  }

  private bitmap(pids: Record<number, number[]>, base: number): number[] {
    const have = Object.keys(pids).map(Number);
    const bits = [0, 0, 0, 0];
    for (let i = 0; i < 32; i++) {
      const p = base + i + 1;
      const on = i === 31 ? have.some((q) => q > p) : have.includes(p);
      if (on) bits[i >> 3]! |= 0x80 >> (i & 7);
    }
    return bits;
  }

  /** One ECU's message as the adapter prints it: ISO-TP frames with headers, `014`/`0:` lines without. */
  private frames(ecu: string, bytes: number[]): string[] {
    const join = (b: number[]) => b.map(hex).join(this.spaces ? ' ' : '') + (this.spaces ? ' ' : '');
    const sep = this.spaces ? ' ' : '';
    if (bytes.length <= 7)
      return [this.headers ? `${ecu}${sep}${join([bytes.length, ...bytes])}` : join(bytes)];
    if (!this.headers) {
      const lines = [bytes.length.toString(16).toUpperCase().padStart(3, '0')];
      for (let i = 0, n = 0; i < bytes.length; i += i === 0 ? 6 : 7, n++)
        lines.push(
          `${(n & 0xf).toString(16).toUpperCase()}:${sep}${join(bytes.slice(i, i === 0 ? 6 : i + 7))}`,
        );
      return lines;
    }
    const lines = [
      `${ecu}${sep}${join([0x10 | (bytes.length >> 8), bytes.length & 0xff, ...bytes.slice(0, 6)])}`,
    ];
    for (let i = 6, n = 1; i < bytes.length; i += 7, n++) {
      const chunk = bytes.slice(i, i + 7);
      while (chunk.length < 7) chunk.push(0x00);
      lines.push(`${ecu}${sep}${join([0x20 | (n & 0xf), ...chunk])}`);
    }
    return lines;
  }
}

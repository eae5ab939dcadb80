/** A GNSS receiver on the far end of a pty pair: streams an NMEA log at a serial line's pace. */
import type { SerialPort } from 'serialport';
import { openSerialPort } from '../../agent/drivers/serial/open-port.js';

export class NmeaFeeder {
  private port?: SerialPort;
  private stopped = false;
  sent = 0;

  constructor(readonly path: string) {}

  /** Opens the device end (again after an unplug); the old port is closed first, as in the ELM327 emulator. */
  async attach(): Promise<void> {
    await this.close();
    const port = await openSerialPort(this.path, 9600);
    port.on('error', () => {});
    this.port = port;
    this.stopped = false;
  }

  /**
   * Writes `text` in chunks of 64 bytes (so sentences arrive split, as they do) at `bytesPerSecond`
   * (960 is 9600 baud); resolves when all is written or the port went away.
   */
  async stream(text: string, bytesPerSecond: number): Promise<void> {
    const data = Buffer.from(text, 'latin1');
    const pause = (64 / bytesPerSecond) * 1000;
    for (let i = 0; i < data.length && !this.stopped; i += 64) {
      const port = this.port;
      if (!port?.isOpen) return;
      await new Promise<void>((r) => port.write(data.subarray(i, i + 64), () => r()));
      this.sent += Math.min(64, data.length - i);
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }
}

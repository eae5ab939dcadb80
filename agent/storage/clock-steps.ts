import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as z from 'zod';
import { readJsonFile, writeDurablyAsync } from '../core/durable-file.js';
import { errorText } from '../core/errors.js';

/** The kernel's clocks: this boot's id, the wall clock, and the time since boot (suspend included). */
export interface BootClock {
  id(): string;
  wall(): number;
  uptime(): number;
}

/** The kernel's own; a boot whose id cannot be read (no /proc) keeps its scales for this run only. */
export const systemBoot: BootClock = {
  id: () => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return '';
    }
  },
  wall: () => Date.now(),
  uptime: () => os.uptime() * 1000,
};

/** A move of the boot's wall time smaller than this is drift being slewed, not a step. */
const MIN_STEP_MS = 5 * 60_000;
/** Scales kept per boot, newest last: a clock stepped this often in one boot is broken. */
const MAX_SCALES = 16;

/** One scale of the wall clock in this boot: the wall time it puts the boot at, and the uptime it was first seen at. */
const Scale = z.object({ boot: z.number(), from: z.number() });
type Scale = z.infer<typeof Scale>;
/** What `clock-steps.json` keeps: the boot the scales belong to, and its scales. */
const Kept = z.object({ boot: z.string(), scales: z.array(Scale) });

/**
 * The steps of the wall clock in this boot, so that a file is aged from when it was written. A unit
 * without a battery-backed clock boots at the time it saved at its last shutdown (or earlier), and
 * is set right once a time server or GNSS is heard: what it wrote before that is stamped days
 * early, and retention's `max_age` would take a parked car's first minute of driving at once. A step
 * shows as a move of the wall time the boot is at (wall clock less uptime, which counts time
 * suspended, so a sleep is no step). The scales are kept in `data_dir`, for an agent started again
 * in the same boot.
 */
export class ClockSteps {
  private scales: Scale[] = [];
  private readonly bootId: string;

  constructor(
    private readonly file: string,
    private readonly failed: (file: string, e: unknown) => void,
    private readonly kernel: BootClock = systemBoot,
  ) {
    this.bootId = kernel.id();
    try {
      const kept = Kept.safeParse(readJsonFile(file));
      if (this.bootId && kept.success && kept.data.boot === this.bootId) this.scales = kept.data.scales;
    } catch {
      // Not readable: this boot's scales begin now, as with none yet.
    }
  }

  /**
   * Looks at the clock: a step since the last look begins a new scale, kept on the disk (off the
   * main thread: a step comes while the agent runs). Looks must not overlap (the housekeeper's don't).
   */
  async observe(): Promise<void> {
    const from = this.kernel.uptime();
    const boot = this.kernel.wall() - from;
    const last = this.scales.at(-1);
    if (last && Math.abs(boot - last.boot) < MIN_STEP_MS) return;
    this.scales = [...this.scales, { boot, from }].slice(-MAX_SCALES);
    try {
      await writeDurablyAsync(this.file, JSON.stringify({ boot: this.bootId, scales: this.scales }));
    } catch (e) {
      this.failed(this.file, new Error(`the clock's steps: ${errorText(e)}`));
    }
  }

  /**
   * When a file stamped `mtime` was written, in the clock's present scale: a time of this boot
   * before a step (from the boot's wall time in that scale until the step was seen) moves by the
   * steps since. Any other time is as it is: written now, or before this boot.
   */
  written(mtime: number): number {
    const now = this.scales.at(-1);
    if (!now || mtime >= now.boot) return mtime;
    for (let k = this.scales.length - 2; k >= 0; k--) {
      const s = this.scales[k]!;
      if (mtime >= s.boot && mtime - s.boot <= this.scales[k + 1]!.from) return mtime + (now.boot - s.boot);
    }
    return mtime;
  }
}

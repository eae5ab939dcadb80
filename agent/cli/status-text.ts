import type { AgentStatus, PowerStatus } from '../parts/context.js';

/** Text for people on a terminal; JSON with `--json` or when piped. */
export const human = (opts: { json?: boolean }) => !opts.json && process.stdout.isTTY === true;

/** `1.2 s`, `3 min`, `2 h 05 min`: an age or duration for people. */
export function ago(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h ${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')} min`;
}

/** `812 B`, `3.4 kB`, `1.2 MB`. */
export const bytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 ** 2).toFixed(1)} MB`;

/** A value on one line: numbers and strings as they are, the rest as compact JSON, cut at 60 characters. */
export function short(v: unknown): string {
  const s =
    typeof v === 'string'
      ? v
      : typeof v === 'number'
        ? String(Math.round(v * 1000) / 1000)
        : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `pitcrew power status` on a terminal. */
export function powerText(p: PowerStatus, now: number): string {
  const out = [`power control: ${p.control}${p.lock ? ', delay lock held' : ''}`];
  out.push(
    p.voltage
      ? `battery ${p.voltage.volts} V, read ${ago(p.voltage.age_ms)} ago`
      : 'battery: no recent reading',
  );
  out.push(
    p.next ? `next: ${p.next.action} in ${ago(p.next.in_ms)}: ${p.next.reason}` : 'next: nothing pending',
  );
  if (p.inhibited) out.push('inhibit holds sleep and hibernation back');
  for (const i of p.inhibitors) out.push(`inhibitor ${i.who} (${i.what}, ${i.mode}): ${i.why}`);
  if (p.last_action)
    out.push(
      `last action: ${p.last_action.action} ${ago(now - p.last_action.at)} ago: ${p.last_action.reason}`,
    );
  if (p.last_wake)
    out.push(`last wake ${ago(now - p.last_wake.at)} ago, after ${ago(p.last_wake.slept_ms)} asleep`);
  return out.join('\n');
}

/** `pitcrew status` on a terminal: what an operator looks for first, one block per part. */
export function statusText(s: AgentStatus, now: number): string {
  const out: string[] = [];
  out.push(`unit ${s.unit}, up ${ago(s.uptime)}, ${s.events} events, ${s.signals} signals`);
  out.push(`memory ${s.memory.rss} MB resident, ${s.memory.heap} MB heap`);
  const c = s.cloud;
  if (c.state === 'off') out.push('cloud off (no cloud section)');
  else
    out.push(
      `cloud ${c.state}${c.broker ? ` ${c.broker}` : ''}${c.since ? ` for ${ago(now - c.since)}` : ''}, ${c.sent} sent, ${c.connects} connects${c.last_error ? `; last error: ${c.last_error}` : ''}`,
    );
  const o = s.outbox;
  out.push(
    `outbox ${o.queued} queued (${bytes(o.bytes)})${o.oldest_age !== undefined ? `, oldest ${ago(o.oldest_age)}` : ''}, ${o.dropped} dropped`,
  );
  if (s.disk)
    out.push(
      `disk ${bytes(s.disk.free)} free of ${bytes(s.disk.total)} (floor ${bytes(s.disk.floor)}${s.disk.low ? ', LOW' : ''}); housekeeping deleted ${s.disk.cleaned.files} files (${bytes(s.disk.cleaned.bytes)}), ${s.disk.cleaned.records} outbox records`,
    );
  for (const [file, f] of Object.entries(s.storage))
    out.push(`storage ${file}: ${f.failures} failures, last: ${f.last}`);
  for (const [name, sv] of Object.entries(s.services)) {
    out.push(
      `service ${name} ${sv.state} for ${ago(now - sv.since)}, ${sv.restarts} restarts${sv.lastError ? `; last error: ${sv.lastError}` : ''}${sv.events_dropped ? `; ${sv.events_dropped} events dropped` : ''}`,
    );
    if (sv.driver)
      out.push(
        `  driver ${Object.entries(sv.driver)
          .filter(([, v]) => v !== undefined && v !== 0)
          .map(([k, v]) => `${k} ${short(v)}`)
          .join(', ')}`,
      );
    for (const w of sv.workers) {
      const next = w.nextRun !== undefined ? `, next in ${ago(Math.max(0, w.nextRun - now))}` : '';
      const errs = w.errors.flatMap((m, i) =>
        Object.entries(m).map(([text, n]) => `message ${i + 1}: ${text} (${n}×)`),
      );
      out.push(
        `  worker ${w.name} ${w.state}, ${w.iterations} runs${next}${errs.length ? `; errors: ${errs.join('; ')}` : ''}`,
      );
    }
  }
  for (const i of s.instances ?? [])
    out.push(
      `instance ${i.serviceId}/${i.subjectId}/${i.instance} ${i.version} ${i.status}${i.error ? `; ${i.error.message}` : ''}`,
    );
  return out.join('\n');
}

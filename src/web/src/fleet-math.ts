/** Fleet-level figures from the per-charger answers of the API, weighted as docs/metrics.md defines them. */

export interface UptimeRow {
  site_id: string;
  uptime_percent: number | null;
  downtime_minutes: number;
  window_minutes: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Uptime of a group of chargers: up time over measured time (chargers without a window count nothing). */
export function groupUptime(rows: UptimeRow[]): { percent: number | null; chargers: number; downtimeMinutes: number } {
  let window = 0;
  let down = 0;
  let chargers = 0;
  for (const r of rows) {
    if (r.uptime_percent === null || r.window_minutes <= 0) continue;
    window += r.window_minutes;
    down += r.downtime_minutes;
    chargers++;
  }
  return { percent: window > 0 ? round1(100 * (1 - down / window)) : null, chargers, downtimeMinutes: down };
}

export function uptimeBySite(rows: UptimeRow[]): Map<string, ReturnType<typeof groupUptime>> {
  const bySite = new Map<string, UptimeRow[]>();
  for (const r of rows) bySite.set(r.site_id, [...(bySite.get(r.site_id) ?? []), r]);
  return new Map([...bySite].map(([site, rs]) => [site, groupUptime(rs)]));
}

export interface UtilisationCharger {
  buckets: { period_start: string; charging_minutes: number; online_minutes: number }[];
}

/** Utilisation of the whole group per bucket: charging time over online time, null when nobody was online. */
export function groupUtilisation(chargers: UtilisationCharger[]): { times: number[]; percent: (number | null)[] } {
  const acc = new Map<number, { charging: number; online: number }>();
  for (const c of chargers) {
    for (const b of c.buckets) {
      const t = Date.parse(b.period_start) / 1000;
      const a = acc.get(t) ?? { charging: 0, online: 0 };
      a.charging += b.charging_minutes;
      a.online += b.online_minutes;
      acc.set(t, a);
    }
  }
  const times = [...acc.keys()].sort((a, b) => a - b);
  return { times, percent: times.map((t) => (acc.get(t)!.online > 0 ? round1((100 * acc.get(t)!.charging) / acc.get(t)!.online) : null)) };
}

const nf = new Intl.NumberFormat('en');
const nf1 = new Intl.NumberFormat('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const dtfShort = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit' });

export const count = (n: number) => nf.format(n);
export const oneDecimal = (n: number) => nf1.format(n);
export const percent = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${nf1.format(n)} %`);
export const kwh = (n: number) => `${nf1.format(n)} kWh`;
export const dateTime = (iso: string | number | Date) => dtf.format(new Date(iso));
export const shortDateTime = (iso: string | number | Date) => dtfShort.format(new Date(iso));

/** "3 minutes ago", from the largest unit that fits. */
export function relative(iso: string | Date, now = Date.now()): string {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const a = Math.abs(s);
  if (a < 45) return rtf.format(s, 'second');
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  if (a < 26 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  return rtf.format(Math.round(s / (30 * 86400)), 'month');
}

/** "2 h 05 min", for durations such as the time an error took to resolve. */
export function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 1) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A datetime-local input's value (the browser's local time) for an instant, to the minute. */
export function toLocalInput(d: Date): string {
  const z = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return z.toISOString().slice(0, 16);
}

/** A datetime-local value as ISO 8601 with a zone, as the API wants it; '' stays ''. */
export function fromLocalInput(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

/** Periods offered for uptime, utilisation and timelines. */
export const PERIODS = [
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { id: '90d', label: 'Last 90 days', ms: 90 * 86_400_000 },
] as const;
export type PeriodId = (typeof PERIODS)[number]['id'];

/** [from, to) of a period ending now, to the whole minute so repeated loads hit the same window. */
export function periodWindow(id: string): { from: string; to: string } {
  const p = PERIODS.find((x) => x.id === id) ?? PERIODS[1];
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  return { from: new Date(to - p.ms).toISOString(), to: new Date(to).toISOString() };
}

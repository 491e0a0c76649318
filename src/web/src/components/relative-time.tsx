import { useEffect, useState } from 'preact/hooks';
import { dateTime, relative } from '../format';

/** "2 minutes ago", kept current; the exact time in the tooltip and the datetime attribute. */
export function RelativeTime({ at, never = 'never' }: { at: string | null | undefined; never?: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(t);
  }, []);
  if (!at) return <span class="muted">{never}</span>;
  return (
    <time dateTime={at} title={dateTime(at)}>
      {relative(at, now)}
    </time>
  );
}

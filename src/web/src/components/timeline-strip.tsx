import { useRef, useState } from 'preact/hooks';
import { duration, shortDateTime } from '../format';
import { totals, type Segment, type StripState } from '../timeline';

const LABELS: Record<StripState, string> = { online: 'Online', offline: 'Offline', faulted: 'Faulted', unknown: 'Not loaded' };
const W = 1000;

/**
 * The connectivity strip: one bar across the period, coloured (and patterned, so colour is not
 * the only cue) by state. Zoom by dragging across it or with the buttons; the stretches in
 * view are listed as text below.
 */
export function TimelineStrip({ segments, from, to }: { segments: Segment[]; from: number; to: number }) {
  const [view, setView] = useState<[number, number]>([from, to]);
  const [drag, setDrag] = useState<[number, number] | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [vFrom, vTo] = view[0] >= from && view[1] <= to && view[0] < view[1] ? view : [from, to];
  const span = vTo - vFrom;
  const x = (t: number) => ((Math.min(vTo, Math.max(vFrom, t)) - vFrom) / span) * W;
  const timeAt = (clientX: number) => {
    const r = svg.current!.getBoundingClientRect();
    return vFrom + ((clientX - r.left) / r.width) * span;
  };
  const zoom = (factor: number) => {
    const mid = (vFrom + vTo) / 2;
    const half = Math.max(60_000, (span * factor) / 2);
    setView([Math.max(from, mid - half), Math.min(to, mid + half)]);
  };
  const visible = segments.filter((s) => s.end > vFrom && s.start < vTo);
  const t = totals(segments, vFrom, vTo);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => vFrom + f * span);
  return (
    <div class="strip">
      <div class="strip-tools">
        <button type="button" onClick={() => zoom(0.5)}>
          Zoom in
        </button>
        <button type="button" onClick={() => zoom(2)} disabled={vFrom <= from && vTo >= to}>
          Zoom out
        </button>
        <button type="button" onClick={() => setView([from, to])} disabled={vFrom <= from && vTo >= to}>
          Whole period
        </button>
        <span class="muted">
          {shortDateTime(vFrom)} – {shortDateTime(vTo)}
        </span>
      </div>
      <svg
        ref={svg}
        class="strip-bar"
        viewBox={`0 0 ${W} 36`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Connectivity from ${shortDateTime(vFrom)} to ${shortDateTime(vTo)}: ${(Object.keys(LABELS) as StripState[])
          .filter((k) => t[k] > 0)
          .map((k) => `${LABELS[k]} ${duration(t[k])}`)
          .join(', ')}`}
        onPointerDown={(e) => {
          (e.currentTarget as Element).setPointerCapture(e.pointerId);
          const at = timeAt(e.clientX);
          setDrag([at, at]);
        }}
        onPointerMove={(e) => drag && setDrag([drag[0], timeAt(e.clientX)])}
        onPointerUp={() => {
          if (drag) {
            const a = Math.min(...drag);
            const b = Math.max(...drag);
            if (b - a > span / 200) setView([Math.max(from, a), Math.min(to, b)]);
          }
          setDrag(null);
        }}
      >
        <defs>
          <pattern id="hatch-off" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="8" height="8" class="seg-offline" />
            <line x1="0" y1="0" x2="0" y2="8" class="hatch" />
          </pattern>
        </defs>
        <rect x="0" y="0" width={W} height="36" class="seg-unknown" />
        {visible.map((s) => (
          <rect
            key={`${s.start}-${s.state}`}
            x={x(s.start)}
            y={s.state === 'faulted' ? 0 : 4}
            width={Math.max(0.5, x(s.end) - x(s.start))}
            height={s.state === 'faulted' ? 36 : 28}
            class={`seg-${s.state}`}
            fill={s.state === 'offline' ? 'url(#hatch-off)' : undefined}
            data-state={s.state}
          />
        ))}
        {drag ? <rect x={x(Math.min(...drag))} y="0" width={Math.abs(x(drag[1]) - x(drag[0]))} height="36" class="strip-select" /> : null}
      </svg>
      <div class="strip-axis" aria-hidden="true">
        {ticks.map((tk) => (
          <span key={tk}>{shortDateTime(tk)}</span>
        ))}
      </div>
      <ul class="legend">
        {(['online', 'faulted', 'offline', 'unknown'] as StripState[]).map((k) => (
          <li key={k}>
            <span class={`swatch seg-${k}`} aria-hidden="true" /> {LABELS[k]}: {duration(t[k])}
          </li>
        ))}
      </ul>
      <details>
        <summary>Stretches in view ({visible.length})</summary>
        <ol class="strip-list">
          {visible.map((s) => (
            <li key={`${s.start}-${s.state}`} data-state={s.state}>
              {LABELS[s.state]} from {shortDateTime(Math.max(s.start, vFrom))} to {shortDateTime(Math.min(s.end, vTo))} ({duration(Math.min(s.end, vTo) - Math.max(s.start, vFrom))})
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}

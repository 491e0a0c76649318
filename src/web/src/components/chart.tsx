import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** One value per x; null is a gap. */
  values: (number | null)[];
  colour: string;
  unit?: string;
}

/**
 * A time-series bar chart (uPlot, canvas). Canvas is opaque to assistive technology, so the
 * same figures are in a table beside it (collapsed), and the chart has a text label.
 */
export function BarChart(props: { label: string; times: number[]; series: ChartSeries[]; height?: number; yMax?: number; formatX: (t: number) => string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: props.height ?? 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: [0, props.yMax ?? 100] } },
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 56, values: (_u, ticks) => ticks.map((t) => `${t}${props.series[0]?.unit ?? ''}`) }],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            fill: `${s.colour}cc`,
            paths: uPlot.paths.bars!({ size: [0.7, 48] }),
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v}${s.unit ?? ''}`),
          })),
        ],
      },
      [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.height, props.yMax]);
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={props.label} />
      <details>
        <summary>Show the figures as a table</summary>
        <table>
          <caption class="visually-hidden">{props.label}</caption>
          <thead>
            <tr>
              <th scope="col">Period start</th>
              {props.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.times.map((t, i) => (
              <tr key={t}>
                <th scope="row">{props.formatX(t)}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.values[i] === null || s.values[i] === undefined ? '—' : `${s.values[i]}${s.unit ?? ''}`}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

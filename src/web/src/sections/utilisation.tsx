import { useMemo } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { BarChart } from '../components/chart';
import { Panel } from '../components/panel';
import { periodWindow, shortDateTime } from '../format';
import { groupUtilisation } from '../fleet-math';
import type { SectionProps } from '../modules';

export default function Utilisation({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const window = useMemo(() => periodWindow('30d'), [id]);
  const data = useApi(
    (signal) => api.ok(api.GET('/api/v1/cpo/fleet/utilisation', { params: { query: { ...window, charge_point_id: id, granularity: 'day' } }, signal })),
    [window],
  );
  const util = useMemo(() => (data.data ? groupUtilisation(data.data.chargers) : null), [data.data]);
  const series = useMemo(() => (util ? [{ label: 'Utilisation', values: util.percent, colour: '#1f5fa8', unit: ' %' }] : []), [util]);
  return (
    <Panel title="Utilisation, last 30 days" id="charger-utilisation" error={data.error} loading={data.loading}>
      {util ? <BarChart label={`Daily utilisation of ${id} over 30 days`} times={util.times} series={series} formatX={(t) => shortDateTime(t * 1000)} height={180} /> : null}
    </Panel>
  );
}

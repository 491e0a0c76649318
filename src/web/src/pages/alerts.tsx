import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { Panel } from '../components/panel';
import type { PageProps } from '../modules';
import { AlertList, filtersOf } from '../alerts/alert-list';
import { Rules } from '../alerts/rules';
import { Webhooks } from '../alerts/webhooks';

const WEBHOOK_ROUTE = 'GET /api/v1/webhooks/endpoints';

/**
 * Alerts, the rules that open them, and the webhook endpoints that carry them out
 * (docs/dashboard.md). Reading alerts and rules needs read:alerts, changing rules write:alerts,
 * anything about webhooks write:webhooks: each part says which scope it lacks.
 */
export default function Alerts({ query }: PageProps) {
  const { api, can, features } = useSignedIn();
  const readable = can('read:alerts');
  const rules = useApi(async (signal) => (readable ? api.ok(api.GET('/api/v1/cpo/alert-rules', { params: { query: { limit: 1000 } }, signal })) : undefined), [readable]);
  return (
    <>
      <h1>Alerts</h1>
      {readable ? (
        <>
          <AlertList filters={filtersOf(query)} rules={rules.data?.rules ?? []} />
          <Rules rules={rules} onChanged={rules.reload} />
        </>
      ) : (
        <Panel title="Alerts and rules" id="alerts">
          <p class="notice notice-scope" role="status">
            Your API key cannot show alerts or alert rules: it lacks the scope <code>read:alerts</code>.
          </p>
        </Panel>
      )}
      {features.has(WEBHOOK_ROUTE) ? <Webhooks /> : null}
    </>
  );
}

import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import type { Json } from '../api/client';
import { Panel } from '../components/panel';
import { dateTime } from '../format';
import type { SectionProps } from '../modules';

type Frame = Json<'/api/v1/cpo/chargers/{charge_point_id}/messages'>['messages'][number];

/** The frame as it went over the wire (OCPP-J): what an engineer compares with the charger's own log. */
function wire(f: Frame): string {
  if (f.message_type === 'MALFORMED') return f.raw ?? '';
  const type = f.message_type === 'CALL' ? 2 : f.message_type === 'CALLRESULT' ? 3 : 4;
  if (type === 4) {
    const e = (f.payload ?? {}) as { error_code?: string; error_description?: string; error_details?: unknown };
    return JSON.stringify([4, f.message_id, e.error_code, e.error_description, e.error_details ?? {}], null, 2);
  }
  return JSON.stringify(type === 2 ? [2, f.message_id, f.action, f.payload] : [3, f.message_id, f.payload], null, 2);
}

/**
 * The raw OCPP message log of the charger (GET /api/v1/cpo/chargers/{id}/messages, newest
 * first, keyset pages), filtered by action and direction. The newest page follows the
 * charger's events, so a command's CALL and its answer appear without a reload.
 */
export default function Messages({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const [action, setAction] = useState('');
  const [direction, setDirection] = useState<'' | 'in' | 'out'>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const tick = useLiveTick((e) => (e.data as { charge_point_id?: string } | null)?.charge_point_id === id);
  const data = useApi(
    (signal) =>
      api.ok(
        api.GET('/api/v1/cpo/chargers/{charge_point_id}/messages', {
          params: { path: { charge_point_id: id }, query: { limit: 50, action: action || undefined, direction: direction || undefined, cursor } },
          signal,
        }),
      ),
    // Older pages do not change: only the newest one follows the charger.
    [id, action, direction, cursor],
    cursor ? 0 : tick,
  );
  const rows = data.data?.messages ?? [];
  return (
    <Panel
      title="OCPP message log"
      id="messages"
      error={data.error}
      loading={data.loading && !data.data}
      actions={
        <button type="button" onClick={data.reload}>
          Refresh
        </button>
      }
    >
      <div class="toolbar" role="group" aria-label="Message filters">
        <label class="control" for="msg-action">
          <span class="control-label">Action</span>
          <input id="msg-action" type="text" placeholder="e.g. StatusNotification" value={action} onChange={(e) => (setCursors([]), setAction((e.currentTarget as HTMLInputElement).value.trim()))} />
        </label>
        <label class="control" for="msg-direction">
          <span class="control-label">Direction</span>
          <select id="msg-direction" value={direction} onChange={(e) => (setCursors([]), setDirection((e.currentTarget as HTMLSelectElement).value as '' | 'in' | 'out'))}>
            <option value="">both</option>
            <option value="in">from the charger</option>
            <option value="out">to the charger</option>
          </select>
        </label>
      </div>
      {data.data && rows.length === 0 ? <p class="muted">No messages match.</p> : null}
      <ol class="frames" data-testid="messages">
        {rows.map((f) => (
          <li key={f.id} data-action={f.action ?? ''} data-type={f.message_type} data-direction={f.direction} data-message-id={f.message_id ?? ''}>
            <details>
              <summary>
                <time dateTime={f.timestamp_ms}>{dateTime(f.timestamp_ms)}</time> {f.direction === 'out' ? '→ to the charger' : '← from the charger'}{' '}
                <strong>{f.action ?? f.message_type}</strong> <span class="muted">{f.message_type} {f.message_id}</span>
              </summary>
              <pre class="json">{wire(f)}</pre>
              {f.note ? <p class="muted">{f.note}</p> : null}
            </details>
          </li>
        ))}
      </ol>
      <div class="pager">
        <button type="button" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!data.data?.next_cursor} onClick={() => setCursors([...cursors, data.data!.next_cursor!])}>
          Older
        </button>
      </div>
    </Panel>
  );
}

import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { Panel } from '../components/panel';
import { dateTime } from '../format';
import type { SectionProps } from '../modules';

/**
 * The raw OCPP message log of the charger (issue 12: GET /api/v1/cpo/chargers/{id}/messages,
 * newest first, keyset pages); shown only on a service that lists the route. Field names are
 * read leniently until the route's generated types arrive.
 */
interface Frame {
  id?: string;
  direction?: string;
  message_type?: string;
  type?: string;
  message_id?: string;
  action?: string | null;
  payload?: unknown;
  timestamp?: string;
  at?: string;
  received_at?: string;
}

export default function Messages({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const [action, setAction] = useState('');
  const [direction, setDirection] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const data = useApi(async (signal) => {
    const q = new URLSearchParams({ limit: '50' });
    if (action) q.set('action', action);
    if (direction) q.set('direction', direction);
    if (cursor) q.set('cursor', cursor);
    return (await api.raw('GET', `/api/v1/cpo/chargers/${encodeURIComponent(id)}/messages?${q}`, undefined, signal)) as {
      messages?: Frame[];
      next_cursor?: string | null;
    };
  }, [id, action, direction, cursor]);
  const rows = data.data?.messages ?? [];
  return (
    <Panel title="OCPP message log" id="messages" error={data.error} loading={data.loading && !data.data}>
      <div class="toolbar" role="group" aria-label="Message filters">
        <label class="control" for="msg-action">
          <span class="control-label">Action</span>
          <input id="msg-action" type="text" placeholder="e.g. StatusNotification" value={action} onChange={(e) => (setCursors([]), setAction((e.currentTarget as HTMLInputElement).value.trim()))} />
        </label>
        <label class="control" for="msg-direction">
          <span class="control-label">Direction</span>
          <select id="msg-direction" value={direction} onChange={(e) => (setCursors([]), setDirection((e.currentTarget as HTMLSelectElement).value))}>
            <option value="">both</option>
            <option value="in">from the charger</option>
            <option value="out">to the charger</option>
          </select>
        </label>
      </div>
      <ol class="frames" data-testid="messages">
        {rows.map((f, i) => (
          <li key={f.id ?? `${f.message_id}-${i}`} data-action={f.action ?? ''}>
            <details>
              <summary>
                <time dateTime={f.timestamp ?? f.at ?? f.received_at}>{dateTime(f.timestamp ?? f.at ?? f.received_at ?? '')}</time> {f.direction === 'out' ? '→' : '←'}{' '}
                <strong>{f.action ?? f.message_type ?? f.type}</strong> <span class="muted">{f.message_type ?? f.type} {f.message_id}</span>
              </summary>
              <pre class="json">{JSON.stringify(f.payload, null, 2)}</pre>
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

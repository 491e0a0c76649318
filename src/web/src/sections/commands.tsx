import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { ApiFailure } from '../api/client';
import { NeedsScope, Panel } from '../components/panel';
import type { SectionProps } from '../modules';

/**
 * Command buttons (issue 12: POST /api/v1/cpo/commands/{charge_point_id}). Shown only on a
 * service that lists that route; written against the contract before the route
 * shipped, through `raw` until `npm run web:types` brings its generated types.
 */
interface CommandRecord {
  id: string;
  command: string;
  status: string;
  ocpp_action?: string | null;
  response?: unknown;
  error?: unknown;
  round_trip_ms?: number | null;
}

interface Pending {
  command: string;
  label: string;
  parameters: Record<string, unknown>;
}

const num = (v: string) => (v === '' ? undefined : Number(v));

export default function Commands({ chargePointId: id }: SectionProps) {
  const { api, can } = useSignedIn();
  const [connector, setConnector] = useState('1');
  const [limitKw, setLimitKw] = useState('11');
  const [idTag, setIdTag] = useState('');
  const [sessionId, setSessionId] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<CommandRecord | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const ask = (command: string, label: string, parameters: Record<string, unknown> = {}) => {
    setResult(null);
    setFailure(null);
    setPending({ command, label, parameters });
  };
  const send = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      const body = { command: pending.command, parameters: pending.parameters };
      setResult((await api.raw('POST', `/api/v1/cpo/commands/${encodeURIComponent(id)}`, body)) as CommandRecord);
    } catch (err) {
      setFailure(err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String(err)));
    } finally {
      setBusy(false);
      setPending(null);
    }
  };
  const c = num(connector);
  return (
    <Panel title="Commands" id="commands">
      <NeedsScope scope="write:commands" has={can('write:commands')}>
        <div class="toolbar">
          <label class="control" for="cmd-connector">
            <span class="control-label">Connector</span>
            <input id="cmd-connector" type="number" min="0" value={connector} onInput={(e) => setConnector((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="button" onClick={() => ask('soft_reset', 'Soft reset')}>Soft reset</button>
          <button type="button" onClick={() => ask('hard_reset', 'Hard reset')}>Hard reset</button>
          <button type="button" onClick={() => ask('unlock_connector', `Unlock connector ${c}`, { connector_id: c })}>Unlock connector</button>
          <button type="button" onClick={() => ask('set_available', `Set connector ${c} available`, { connector_id: c })}>Set available</button>
          <button type="button" onClick={() => ask('set_unavailable', `Set connector ${c} unavailable`, { connector_id: c })}>Set unavailable</button>
        </div>
        <div class="toolbar">
          <label class="control" for="cmd-limit">
            <span class="control-label">Power limit (kW)</span>
            <input id="cmd-limit" type="number" min="0" step="0.1" value={limitKw} onInput={(e) => setLimitKw((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="button" onClick={() => ask('set_power_limit', `Limit to ${limitKw} kW`, { limit_kw: num(limitKw) })}>Set power limit</button>
          <button type="button" onClick={() => ask('clear_power_limit', 'Clear the power limit')}>Clear power limit</button>
          <label class="control" for="cmd-idtag">
            <span class="control-label">Id tag</span>
            <input id="cmd-idtag" type="text" value={idTag} onInput={(e) => setIdTag((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="button" onClick={() => ask('start_session', `Start a session on connector ${c}`, { connector_id: c, id_tag: idTag })}>Start session</button>
          <label class="control" for="cmd-session">
            <span class="control-label">Session id</span>
            <input id="cmd-session" type="text" placeholder="ses_…" value={sessionId} onInput={(e) => setSessionId((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="button" onClick={() => ask('stop_session', `Stop session ${sessionId}`, { session_id: sessionId })}>Stop session</button>
        </div>
        {pending ? (
          <div class="confirm" role="alertdialog" aria-labelledby="cmd-confirm-text">
            <p id="cmd-confirm-text">
              {pending.label} on <strong>{id}</strong>?
            </p>
            <button type="button" class="primary" disabled={busy} onClick={send} autoFocus>
              Send {pending.command}
            </button>
            <button type="button" disabled={busy} onClick={() => setPending(null)}>
              Cancel
            </button>
          </div>
        ) : null}
        <div aria-live="polite" data-testid="command-result">
          {failure ? <p class="notice notice-error">{failure.message}</p> : null}
          {result ? (
            <div class="command-result" data-status={result.status}>
              <p>
                <strong>{result.command}</strong>: the charger answered <strong>{result.status}</strong>
                {result.round_trip_ms !== null && result.round_trip_ms !== undefined ? ` in ${result.round_trip_ms} ms` : ''}
                {result.ocpp_action ? ` (${result.ocpp_action})` : ''}.
              </p>
              {result.response !== null && result.response !== undefined ? <pre class="json">{JSON.stringify(result.response, null, 2)}</pre> : null}
              {result.error ? <pre class="json">{JSON.stringify(result.error, null, 2)}</pre> : null}
            </div>
          ) : null}
        </div>
      </NeedsScope>
    </Panel>
  );
}

import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { ApiFailure, type Json } from '../api/client';
import { Field } from '../components/controls';
import { errorsOf, noErrors, type FormErrors } from '../components/form-errors';
import { FailureNotice, Panel } from '../components/panel';
import { RelativeTime } from '../components/relative-time';
import { Deliveries } from './deliveries';

export type Endpoint = Json<'/api/v1/webhooks/endpoints'>['endpoints'][number];
type Created = Json<'/api/v1/webhooks/endpoints', 'post', 201>;

const SCOPE = 'write:webhooks';

/**
 * Webhook endpoints (/api/v1/webhooks/endpoints, scope write:webhooks even to list): create,
 * pause and resume, their deliveries, a test message. The signing secret is in the creation
 * answer only: it is shown once, held in this component's memory, and gone on reload.
 */
export function Webhooks() {
  const { api, can } = useSignedIn();
  const allowed = can(SCOPE);
  const list = useApi(async (signal) => (allowed ? api.ok(api.GET('/api/v1/webhooks/endpoints', { params: { query: { limit: 100 } }, signal })) : null), [allowed]);
  const [created, setCreated] = useState<Created | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  if (!allowed) {
    return (
      <Panel title="Webhook endpoints" id="webhooks">
        <p class="notice notice-scope" role="status">
          Your API key cannot show or manage webhook endpoints: it lacks the scope <code>{SCOPE}</code>.
        </p>
      </Panel>
    );
  }
  const rows = list.data?.endpoints ?? [];
  return (
    <Panel title="Webhook endpoints" id="webhooks" error={list.error} loading={list.loading && !list.data}>
      {created ? <SecretOnce created={created} onDismiss={() => setCreated(null)} /> : null}
      {list.data && rows.length === 0 ? <p class="muted">No webhook endpoints.</p> : null}
      <ul class="endpoints" data-testid="endpoint-list">
        {rows.map((e) => (
          <li key={e.id} data-endpoint={e.id} data-status={e.status}>
            <div class="endpoint-head">
              <div>
                <strong class="url">{e.url}</strong>
                <div class="muted">
                  {e.id} · events: {e.events.join(', ')}
                  {e.description ? ` · ${e.description}` : ''} · created <RelativeTime at={e.created_at} />
                </div>
              </div>
              <span class={`chip ${e.status === 'active' ? 'chip-ok' : e.status === 'paused' ? 'chip-off' : 'chip-bad'}`}>
                <span aria-hidden="true">{e.status === 'active' ? '●' : e.status === 'paused' ? '❚❚' : '✖'}</span> {e.status}
                {e.disabled_reason ? ` (${e.disabled_reason})` : ''}
              </span>
            </div>
            <div class="endpoint-actions">
              <button type="button" aria-expanded={open === e.id} aria-controls={`deliveries-${e.id}`} onClick={() => setOpen(open === e.id ? null : e.id)}>
                Deliveries and test<span class="visually-hidden"> for {e.url}</span>
              </button>{' '}
              <EnableButton endpoint={e} onChanged={list.reload} />
            </div>
            {open === e.id ? <Deliveries endpoint={e} /> : null}
          </li>
        ))}
      </ul>
      <h3>New endpoint</h3>
      <EndpointForm onCreated={(c) => (setCreated(c), list.reload())} />
    </Panel>
  );
}

/** The secret of an endpoint just created: here once, never again (the API does not return it later). */
function SecretOnce({ created, onDismiss }: { created: Created; onDismiss: () => void }) {
  return (
    <div class="secret" role="status" data-testid="webhook-secret">
      <p>
        Endpoint <strong>{created.id}</strong> created. Its signing secret is shown <strong>only now</strong>: copy it to your receiver.
      </p>
      <label class="control" for="webhook-secret-value">
        <span class="control-label">Signing secret</span>
        <input id="webhook-secret-value" type="text" readOnly value={created.secret} size={60} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
      </label>
      <button type="button" onClick={onDismiss}>
        I have copied it
      </button>
    </div>
  );
}

function EndpointForm({ onCreated }: { onCreated: (c: Created) => void }) {
  const { api } = useSignedIn();
  const blank = { url: '', events: '*', description: '' };
  const [v, setV] = useState(blank);
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof blank) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const events = v.events
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      const c = await api.ok(api.POST('/api/v1/webhooks/endpoints', { body: { url: v.url.trim(), events, ...(v.description.trim() ? { description: v.description.trim() } : {}) } }));
      setErrors(noErrors);
      setV(blank);
      onCreated(c);
    } catch (err) {
      setErrors(errorsOf(err, ['url', 'events', 'description']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" noValidate onSubmit={submit} aria-label="New webhook endpoint" data-testid="endpoint-form">
      <Field label="URL" name="webhook-url" error={errors.fields.url} hint="https:// address that receives the POSTs.">
        {(a) => <input {...a} type="url" value={v.url} onInput={set('url')} aria-required="true" />}
      </Field>
      <Field label="Events" name="webhook-events" error={errors.fields.events} hint="* for every event, or types separated by commas (alert.triggered, alert.resolved, …).">
        {(a) => <input {...a} type="text" value={v.events} onInput={set('events')} />}
      </Field>
      <Field label="Description" name="webhook-description" error={errors.fields.description}>
        {(a) => <input {...a} type="text" value={v.description} onInput={set('description')} />}
      </Field>
      {errors.form ? (
        <p class="notice notice-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          Create endpoint
        </button>
      </div>
    </form>
  );
}

/** Pause an endpoint (enabled: false), or resume a paused or disabled one from where it stopped. */
function EnableButton({ endpoint: e, onChanged }: { endpoint: Endpoint; onChanged: () => void }) {
  const { api } = useSignedIn();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const resume = e.status !== 'active';
  const toggle = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await api.ok(api.PATCH('/api/v1/webhooks/endpoints/{endpoint_id}', { params: { path: { endpoint_id: e.id } }, body: { enabled: resume } }));
      onChanged();
    } catch (err) {
      setFailure(err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" disabled={busy} onClick={toggle}>
        {resume ? 'Resume' : 'Pause'}
        <span class="visually-hidden"> {e.url}</span>
      </button>
      {failure ? <FailureNotice error={failure} /> : null}
    </>
  );
}

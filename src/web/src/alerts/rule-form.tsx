import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { Field } from '../components/controls';
import { errorsOf, noErrors, type FormErrors } from '../components/form-errors';
import { useSites } from '../components/controls';
import type { Rule } from './rules';

type Kind = Rule['kind'];

/** The kinds of rule (docs/alerts.md), what each watches, and the parameters it takes. */
export const KINDS: { kind: Kind; label: string; params: Param[]; defaultDelay: number | null }[] = [
  { kind: 'charger_offline', label: 'Charger offline', params: [], defaultDelay: 5 },
  { kind: 'faulted', label: 'Connector or charger faulted', params: ['per_connector'], defaultDelay: 5 },
  { kind: 'error_code', label: 'Error code open', params: ['error_code', 'per_connector'], defaultDelay: 1 },
  { kind: 'no_heartbeat', label: 'No heartbeat while connected', params: ['heartbeat_multiple'], defaultDelay: 0 },
  { kind: 'uptime_below', label: 'Uptime below a threshold', params: ['threshold_percent', 'window_hours'], defaultDelay: null },
];
type Param = 'per_connector' | 'error_code' | 'heartbeat_multiple' | 'threshold_percent' | 'window_hours';

const FIELDS = ['name', 'kind', 'site_id', 'charge_point_id', 'delay_minutes', 'per_connector', 'error_code', 'heartbeat_multiple', 'threshold_percent', 'window_hours'] as const;

interface Values {
  name: string;
  kind: Kind;
  site_id: string;
  charge_point_id: string;
  delay_minutes: string;
  per_connector: boolean;
  error_code: string;
  heartbeat_multiple: string;
  threshold_percent: string;
  window_hours: string;
}

const str = (v: number | string | null | undefined) => (v === null || v === undefined ? '' : String(v));

function valuesOf(rule?: Rule): Values {
  return {
    name: rule?.name ?? '',
    kind: rule?.kind ?? 'charger_offline',
    site_id: rule?.site_id ?? '',
    charge_point_id: rule?.charge_point_id ?? '',
    delay_minutes: rule && rule.kind !== 'uptime_below' ? str(rule.delay_minutes) : '',
    per_connector: rule?.per_connector ?? false,
    error_code: str(rule?.error_code),
    heartbeat_multiple: str(rule?.heartbeat_multiple),
    threshold_percent: str(rule?.threshold_percent),
    window_hours: str(rule?.window_hours),
  };
}

/** A number field as typed: the API judges it (a word stays a string, so its message names the field). */
const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

/**
 * The body of a create or a change: the fields the kind takes, as typed; the API validates and
 * its message is shown at the field it names. An empty optional field is left out on creation
 * (the API's default) and cleared on a change.
 */
function bodyOf(v: Values, editing: boolean): Record<string, unknown> {
  const params = KINDS.find((k) => k.kind === v.kind)!.params;
  const body: Record<string, unknown> = {
    name: v.name,
    kind: v.kind,
    site_id: v.site_id || null,
    charge_point_id: v.charge_point_id.trim() || null,
  };
  if (v.kind !== 'uptime_below' && v.delay_minutes.trim() !== '') body.delay_minutes = num(v.delay_minutes);
  for (const p of params) {
    if (p === 'per_connector') body.per_connector = v.per_connector;
    else if (v[p].trim() !== '') body[p] = p === 'error_code' ? v[p].trim() : num(v[p]);
    else if (editing) body[p] = null;
  }
  return body;
}

/** Create a rule, or change one (`rule` given). `prefix` keeps field ids unique when both forms are on the page. */
export function RuleForm({ rule, prefix, onSaved, onCancel }: { rule?: Rule; prefix: string; onSaved: (r: Rule) => void; onCancel?: () => void }) {
  const { api } = useSignedIn();
  const { sites, allowed: sitesAllowed } = useSites();
  const [v, setV] = useState<Values>(() => valuesOf(rule));
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const kind = KINDS.find((k) => k.kind === v.kind)!;
  const set = (k: keyof Values) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const n = (f: string) => `${prefix}${f}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setSaved(null);
    try {
      const body = bodyOf(v, Boolean(rule)) as never;
      const r = rule
        ? await api.ok(api.PATCH('/api/v1/cpo/alert-rules/{rule_id}', { params: { path: { rule_id: rule.rule_id } }, body }))
        : await api.ok(api.POST('/api/v1/cpo/alert-rules', { body }));
      setErrors(noErrors);
      if (!rule) setV(valuesOf());
      setSaved(rule ? `Saved ${r.name}.` : `Created ${r.name} (${r.rule_id}).`);
      onSaved(r);
    } catch (err) {
      setErrors(errorsOf(err, FIELDS));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" noValidate onSubmit={submit} aria-label={rule ? `Edit rule ${rule.name}` : 'New alert rule'} data-testid={rule ? 'rule-edit-form' : 'rule-form'}>
      <Field label="Name" name={n('name')} error={errors.fields.name}>
        {(a) => <input {...a} type="text" value={v.name} onInput={set('name')} aria-required="true" />}
      </Field>
      <Field label="Kind" name={n('kind')} error={errors.fields.kind}>
        {(a) => (
          <select {...a} value={v.kind} onChange={set('kind')}>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Site" name={n('site_id')} error={errors.fields.site_id} hint={sitesAllowed ? 'Watch one site, or all.' : 'Needs the read:sites scope to list sites.'}>
        {(a) => (
          <select {...a} value={v.site_id} onChange={set('site_id')} disabled={!sitesAllowed}>
            <option value="">All sites</option>
            {(sites.data ?? []).map((s) => (
              <option key={s.site_id} value={s.site_id}>
                {s.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Charger" name={n('charge_point_id')} error={errors.fields.charge_point_id} hint="Watch one charger (its id), or leave empty.">
        {(a) => <input {...a} type="text" value={v.charge_point_id} onInput={set('charge_point_id')} />}
      </Field>
      {kind.defaultDelay !== null ? (
        <Field label="Delay (minutes)" name={n('delay_minutes')} error={errors.fields.delay_minutes} hint={`How long the condition must last; empty: ${kind.defaultDelay} min.`}>
          {(a) => <input {...a} type="text" inputMode="decimal" value={v.delay_minutes} onInput={set('delay_minutes')} />}
        </Field>
      ) : null}
      {kind.params.includes('error_code') ? (
        <Field label="Error code" name={n('error_code')} error={errors.fields.error_code} hint="e.g. GroundFailure (required).">
          {(a) => <input {...a} type="text" value={v.error_code} onInput={set('error_code')} aria-required="true" />}
        </Field>
      ) : null}
      {kind.params.includes('heartbeat_multiple') ? (
        <Field label="Heartbeat intervals" name={n('heartbeat_multiple')} error={errors.fields.heartbeat_multiple} hint="Silence longer than this many intervals; empty: 2.">
          {(a) => <input {...a} type="text" inputMode="decimal" value={v.heartbeat_multiple} onInput={set('heartbeat_multiple')} />}
        </Field>
      ) : null}
      {kind.params.includes('threshold_percent') ? (
        <Field label="Uptime threshold (%)" name={n('threshold_percent')} error={errors.fields.threshold_percent} hint="Fire below this uptime (required).">
          {(a) => <input {...a} type="text" inputMode="decimal" value={v.threshold_percent} onInput={set('threshold_percent')} aria-required="true" />}
        </Field>
      ) : null}
      {kind.params.includes('window_hours') ? (
        <Field label="Window (hours)" name={n('window_hours')} error={errors.fields.window_hours} hint="The rolling window; empty: 24.">
          {(a) => <input {...a} type="text" inputMode="numeric" value={v.window_hours} onInput={set('window_hours')} />}
        </Field>
      ) : null}
      {kind.params.includes('per_connector') ? (
        <div class="field">
          <label class="check" for={`f-${n('per_connector')}`}>
            <input
              id={`f-${n('per_connector')}`}
              type="checkbox"
              checked={v.per_connector}
              onChange={(e) => setV({ ...v, per_connector: (e.currentTarget as HTMLInputElement).checked })}
            />{' '}
            One alert per connector
          </label>
          {errors.fields.per_connector ? (
            <span class="field-error" role="alert">
              {errors.fields.per_connector}
            </span>
          ) : null}
        </div>
      ) : null}
      {errors.form ? (
        <p class="notice notice-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {rule ? 'Save rule' : 'Create rule'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
        {saved ? (
          <span role="status" class="saved">
            {saved}
          </span>
        ) : null}
      </div>
    </form>
  );
}

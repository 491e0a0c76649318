import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { ApiFailure, type Json } from '../api/client';
import type { Loaded } from '../api/use-api';
import { useSites } from '../components/controls';
import { FailureNotice, NeedsScope, Panel } from '../components/panel';
import { href } from '../router';
import { KINDS, RuleForm } from './rule-form';

export type Rule = Json<'/api/v1/cpo/alert-rules'>['rules'][number];

/** What a rule takes besides its kind, in words. */
function parameters(r: Rule): string {
  const p: string[] = [];
  if (r.kind !== 'uptime_below') p.push(`after ${r.delay_minutes} min`);
  if (r.error_code) p.push(`code ${r.error_code}`);
  if (r.per_connector) p.push('per connector');
  if (r.heartbeat_multiple !== null) p.push(`${r.heartbeat_multiple} × heartbeat interval`);
  if (r.threshold_percent !== null) p.push(`below ${r.threshold_percent} %`);
  if (r.window_hours !== null) p.push(`over ${r.window_hours} h`);
  return p.join(', ');
}

/**
 * The tenant's alert rules (GET /api/v1/cpo/alert-rules): create, edit, pause and resume
 * (POST, PATCH). A key without write:alerts sees the rules and why it cannot change them.
 */
export function Rules({ rules, onChanged }: { rules: Loaded<Json<'/api/v1/cpo/alert-rules'> | undefined>; onChanged: () => void }) {
  const { can } = useSignedIn();
  const { name: siteName } = useSites();
  const writable = can('write:alerts');
  const [editing, setEditing] = useState<string | null>(null);
  const rows = rules.data?.rules ?? [];
  const kindLabel = (k: Rule['kind']) => KINDS.find((x) => x.kind === k)?.label ?? k;
  return (
    <Panel title="Alert rules" id="alert-rules" error={rules.error} loading={rules.loading && !rules.data}>
      {rules.data && rows.length === 0 ? <p class="muted">No rules yet: nothing is watched.</p> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="list" data-testid="rule-list">
            <caption class="visually-hidden">Alert rules</caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Watches</th>
                <th scope="col">Scope</th>
                <th scope="col">State</th>
                {writable ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.rule_id} data-rule={r.rule_id} data-enabled={r.enabled ? 'yes' : 'no'}>
                  <td>
                    <a href={href('/alerts', { rule: r.rule_id })} title="Show this rule's alerts">
                      {r.name}
                    </a>
                  </td>
                  <td>
                    {kindLabel(r.kind)}
                    <div class="muted">{parameters(r)}</div>
                  </td>
                  <td>
                    {r.charge_point_id ? (
                      <a href={href(`/chargers/${encodeURIComponent(r.charge_point_id)}`)}>{r.charge_point_id}</a>
                    ) : r.site_id ? (
                      siteName(r.site_id)
                    ) : (
                      'All chargers'
                    )}
                  </td>
                  <td>
                    <span class={`chip ${r.enabled ? 'chip-ok' : 'chip-off'}`}>
                      <span aria-hidden="true">{r.enabled ? '●' : '❚❚'}</span> {r.enabled ? 'active' : 'paused'}
                    </span>
                  </td>
                  {writable ? (
                    <td class="actions">
                      <button type="button" aria-expanded={editing === r.rule_id} onClick={() => setEditing(editing === r.rule_id ? null : r.rule_id)}>
                        Edit<span class="visually-hidden"> {r.name}</span>
                      </button>{' '}
                      <PauseButton rule={r} onChanged={onChanged} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing && rows.some((r) => r.rule_id === editing) ? (
        <section class="sub" aria-label="Edit rule">
          <h3>Edit {rows.find((r) => r.rule_id === editing)!.name}</h3>
          <RuleForm
            key={editing}
            prefix="edit-"
            rule={rows.find((r) => r.rule_id === editing)!}
            onSaved={() => (setEditing(null), onChanged())}
            onCancel={() => setEditing(null)}
          />
        </section>
      ) : null}
      <h3>New rule</h3>
      <NeedsScope scope="write:alerts" has={writable}>
        <RuleForm prefix="new-" onSaved={onChanged} />
      </NeedsScope>
    </Panel>
  );
}

/** Pause (enabled: false; its open alerts resolve) or resume a rule. */
function PauseButton({ rule, onChanged }: { rule: Rule; onChanged: () => void }) {
  const { api } = useSignedIn();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const toggle = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await api.ok(api.PATCH('/api/v1/cpo/alert-rules/{rule_id}', { params: { path: { rule_id: rule.rule_id } }, body: { enabled: !rule.enabled } }));
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
        {rule.enabled ? 'Pause' : 'Resume'}
        <span class="visually-hidden"> {rule.name}</span>
      </button>
      {failure ? <FailureNotice error={failure} /> : null}
    </>
  );
}

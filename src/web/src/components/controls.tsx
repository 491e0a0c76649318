import type { JSX } from 'preact';
import { useId } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { PERIODS } from '../format';

export function Select(props: {
  label: string;
  value: string;
  options: readonly { value: string; label: string }[];
  onChange: (v: string) => void;
  disabled?: boolean;
  hint?: string;
  name?: string;
}) {
  const id = `${props.name ?? 'select'}-${useId()}`;
  return (
    <label class="control" for={id}>
      <span class="control-label">{props.label}</span>
      <select id={id} name={props.name} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
        {props.options.map((o) => (
          <option value={o.value} key={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint ? <span class="control-hint">{props.hint}</span> : null}
    </label>
  );
}

export function PeriodSelect({ value, onChange, label = 'Period' }: { value: string; onChange: (v: string) => void; label?: string }) {
  return <Select label={label} name="period" value={value} onChange={onChange} options={PERIODS.map((p) => ({ value: p.id, label: p.label }))} />;
}

/** The tenant's sites (none for a key without read:sites), and a name for a site id (the id when unknown). */
export function useSites() {
  const { api, can } = useSignedIn();
  const allowed = can('read:sites');
  const sites = useApi(
    async (signal) => (allowed ? (await api.ok(api.GET('/api/v1/cpo/sites', { params: { query: { limit: 1000 } }, signal }))).sites : []),
    [allowed],
  );
  const name = (id: string) => sites.data?.find((s) => s.site_id === id)?.name ?? id;
  return { sites, allowed, name };
}

/** Site filter: every site of the tenant; disabled, with the reason, for a key without read:sites. */
export function SiteSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { sites, allowed } = useSites();
  const options = [{ value: '', label: 'All sites' }, ...(sites.data ?? []).map((s) => ({ value: s.site_id, label: s.name }))];
  return (
    <Select
      label="Site"
      name="site"
      value={value}
      onChange={onChange}
      options={options}
      disabled={!allowed}
      hint={allowed ? undefined : 'Needs the read:sites scope'}
    />
  );
}

export function Field(props: {
  label: string;
  name: string;
  error?: string | null;
  hint?: string;
  children: (attrs: { id: string; name: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => JSX.Element;
}) {
  const id = `f-${props.name}`;
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${props.error ? 'field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, name: props.name, 'aria-invalid': Boolean(props.error), 'aria-describedby': described })}
      {props.hint ? (
        <span class="control-hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      {props.error ? (
        <span class="field-error" id={`${id}-err`} role="alert">
          {props.error}
        </span>
      ) : null}
    </div>
  );
}

export function Pager(props: { total: number; limit: number; offset: number; onOffset: (o: number) => void; label: string }) {
  const { total, limit, offset } = props;
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + limit);
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={offset === 0} onClick={() => props.onOffset(0)}>
        First
      </button>
      <button type="button" disabled={offset === 0} onClick={() => props.onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span aria-live="polite" class="pager-status">
        {first}–{last} of {total.toLocaleString('en')} (page {page} of {pages})
      </span>
      <button type="button" disabled={last >= total} onClick={() => props.onOffset(offset + limit)}>
        Next
      </button>
      <button type="button" disabled={last >= total} onClick={() => props.onOffset((pages - 1) * limit)}>
        Last
      </button>
    </nav>
  );
}

import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import type { Json } from '../api/client';
import { errorsOf, noErrors, type FormErrors } from '../components/form-errors';
import { Field } from '../components/controls';
import { NeedsScope, Panel } from '../components/panel';
import { dateTime, fromLocalInput, toLocalInput } from '../format';
import type { SectionProps } from '../modules';

type Body = Json<'/api/v1/cpo/chargers/{charge_point_id}/maintenance', 'post', 201>;
type MaintenanceEvent = Json<'/api/v1/cpo/chargers/{charge_point_id}/maintenance'>['events'][number];

const FIELDS = ['type', 'description', 'scheduled_at', 'completed_at', 'technician', 'notes'];

export default function Maintenance({ chargePointId: id }: SectionProps) {
  const { api, can } = useSignedIn();
  const path = { charge_point_id: id };
  const list = useApi((signal) => api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}/maintenance', { params: { path }, signal })), [id]);
  const events = [...(list.data?.events ?? [])].sort((a, b) => Date.parse(b.scheduled_at) - Date.parse(a.scheduled_at));
  const writable = can('write:maintenance');
  return (
    <Panel title="Maintenance" id="maintenance" error={list.error} loading={list.loading && !list.data}>
      {list.data && events.length === 0 ? <p class="muted">No maintenance recorded.</p> : null}
      <ul class="maintenance" data-testid="maintenance-list">
        {events.map((m) => (
          <MaintenanceItem key={m.event_id} m={m} chargePointId={id} writable={writable} onChanged={list.reload} />
        ))}
      </ul>
      <h3>Log or schedule maintenance</h3>
      <NeedsScope scope="write:maintenance" has={writable}>
        <MaintenanceForm chargePointId={id} onCreated={list.reload} />
      </NeedsScope>
    </Panel>
  );
}

function MaintenanceItem({ m, chargePointId, writable, onChanged }: { m: MaintenanceEvent; chargePointId: string; writable: boolean; onChanged: () => void }) {
  const [completing, setCompleting] = useState(false);
  return (
    <li data-maintenance={m.event_id} data-completed={m.completed_at ? 'yes' : 'no'}>
      <div>
        <strong>{m.type}</strong>: {m.description}
      </div>
      <div class="muted">
        Scheduled {dateTime(m.scheduled_at)}
        {m.technician ? `, technician ${m.technician}` : ''}.{' '}
        {m.completed_at ? <span class="done">Completed {dateTime(m.completed_at)}.</span> : <strong class="open">Open.</strong>}
        {m.notes ? ` Notes: ${m.notes}` : ''}
      </div>
      {!m.completed_at && writable ? (
        completing ? (
          <CompleteForm m={m} chargePointId={chargePointId} onDone={() => (setCompleting(false), onChanged())} onCancel={() => setCompleting(false)} />
        ) : (
          <button type="button" onClick={() => setCompleting(true)}>
            Complete…
          </button>
        )
      ) : null}
    </li>
  );
}

function MaintenanceForm({ chargePointId, onCreated }: { chargePointId: string; onCreated: (m: Body) => void }) {
  const { api } = useSignedIn();
  const blank = { type: 'reactive', description: '', scheduled_at: toLocalInput(new Date()), completed_at: '', technician: '', notes: '' };
  const [v, setV] = useState(blank);
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const set = (k: keyof typeof blank) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <form
      class="form"
      noValidate
      data-testid="maintenance-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setSaved(null);
        try {
          // Sent as typed: the API validates and its messages are shown at the field they name.
          const created = await api.ok(
            api.POST('/api/v1/cpo/chargers/{charge_point_id}/maintenance', {
              params: { path: { charge_point_id: chargePointId } },
              body: {
                type: v.type as Body['type'] & 'reactive',
                description: v.description,
                scheduled_at: fromLocalInput(v.scheduled_at),
                ...(v.completed_at ? { completed_at: fromLocalInput(v.completed_at) } : {}),
                ...(v.technician ? { technician: v.technician } : {}),
                ...(v.notes ? { notes: v.notes } : {}),
              },
            }),
          );
          setErrors(noErrors);
          setV(blank);
          setSaved(`Saved as ${created.event_id}.`);
          onCreated(created);
        } catch (err) {
          setErrors(errorsOf(err, FIELDS));
        } finally {
          setBusy(false);
        }
      }}
    >
      <Field label="Type" name="type" error={errors.fields.type}>
        {(a) => (
          <select {...a} value={v.type} onChange={set('type')}>
            <option value="scheduled">scheduled</option>
            <option value="reactive">reactive</option>
            <option value="inspection">inspection</option>
          </select>
        )}
      </Field>
      <Field label="Description" name="description" error={errors.fields.description} hint="What is to be done, or was done (required).">
        {(a) => <textarea {...a} rows={2} value={v.description} onInput={set('description')} aria-required="true" />}
      </Field>
      <Field label="Scheduled at" name="scheduled_at" error={errors.fields.scheduled_at} hint="Your local time.">
        {(a) => <input {...a} type="datetime-local" value={v.scheduled_at} onInput={set('scheduled_at')} />}
      </Field>
      <Field label="Completed at" name="completed_at" error={errors.fields.completed_at} hint="Leave empty while the work is still to do.">
        {(a) => <input {...a} type="datetime-local" value={v.completed_at} onInput={set('completed_at')} />}
      </Field>
      <Field label="Technician" name="technician" error={errors.fields.technician}>
        {(a) => <input {...a} type="text" value={v.technician} onInput={set('technician')} />}
      </Field>
      <Field label="Notes" name="notes" error={errors.fields.notes}>
        {(a) => <textarea {...a} rows={2} value={v.notes} onInput={set('notes')} />}
      </Field>
      {errors.form ? (
        <p class="notice notice-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        Log maintenance
      </button>
      {saved ? (
        <span role="status" class="saved">
          {saved}
        </span>
      ) : null}
    </form>
  );
}

function CompleteForm({ m, chargePointId, onDone, onCancel }: { m: MaintenanceEvent; chargePointId: string; onDone: () => void; onCancel: () => void }) {
  const { api } = useSignedIn();
  const [completedAt, setCompletedAt] = useState(toLocalInput(new Date()));
  const [notes, setNotes] = useState(m.notes ?? '');
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="form form-inline"
      noValidate
      aria-label={`Complete ${m.event_id}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await api.ok(
            api.PATCH('/api/v1/cpo/chargers/{charge_point_id}/maintenance/{event_id}', {
              params: { path: { charge_point_id: chargePointId, event_id: m.event_id } },
              body: { completed_at: fromLocalInput(completedAt), ...(notes ? { notes } : {}) },
            }),
          );
          onDone();
        } catch (err) {
          setErrors(errorsOf(err, ['completed_at', 'notes']));
        } finally {
          setBusy(false);
        }
      }}
    >
      <Field label="Completed at" name={`completed_at-${m.event_id}`} error={errors.fields.completed_at}>
        {(a) => <input {...a} type="datetime-local" value={completedAt} onInput={(e) => setCompletedAt((e.currentTarget as HTMLInputElement).value)} />}
      </Field>
      <Field label="Notes" name={`notes-${m.event_id}`} error={errors.fields.notes}>
        {(a) => <input {...a} type="text" value={notes} onInput={(e) => setNotes((e.currentTarget as HTMLInputElement).value)} />}
      </Field>
      {errors.form ? (
        <p class="notice notice-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        Mark complete
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

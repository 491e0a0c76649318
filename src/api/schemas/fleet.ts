import { Type } from 'typebox';
import { Nullable, Timestamp } from './common.js';
import { badRequest } from '../errors.js';

// Descriptions follow the contract (seed: fleet-dashboard-api.txt).
export const From = Type.String({ format: 'date-time', description: 'ISO 8601 start date/time, with a zone (Z or ±hh:mm).' });
export const To = Type.String({ format: 'date-time', description: 'ISO 8601 end date/time (exclusive), with a zone.' });
export const ChargePointFilter = Type.String({ maxLength: 48, description: 'Filter results to a specific charger.' });
export const SiteFilter = Type.String({ maxLength: 64, description: 'Filter results to chargers at a specific site.' });

export const Period = Type.Object(
  { from: Timestamp, to: Timestamp },
  { description: 'The requested from and to, in the one timestamp format of the API (UTC, whole seconds).' },
);

export const ErrorEventSchema = Type.Object({
  event_id: Type.String({ description: 'evt_…' }),
  charge_point_id: Type.String(),
  site_id: Type.String(),
  connector_id: Type.Integer({ description: 'Connector the error was reported on (0: the charger itself).' }),
  error_code: Type.String({ description: 'OCPP error code (e.g. ConnectorLockFailure).' }),
  info: Nullable(Type.String()),
  vendor_error_code: Nullable(Type.String()),
  status: Nullable(Type.String({ description: 'Connector status reported with the error.' })),
  timestamp: Timestamp,
  resolved_at: Nullable(Timestamp),
});

/** Longest span a time-window query may cover. */
export const MAX_SPAN_DAYS = 400;

/** Parses from/to (validated as date-time by the schema) and enforces from < to and a bounded span. */
export function timeWindow(q: { from?: string; to?: string }, required: boolean): { from?: Date; to?: Date } {
  if (required && !q.from) throw badRequest('from', 'from is required (ISO 8601 with a zone)');
  if (required && !q.to) throw badRequest('to', 'to is required (ISO 8601 with a zone)');
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to) {
    if (from >= to) throw badRequest('to', 'to must be after from');
    if (to.getTime() - from.getTime() > MAX_SPAN_DAYS * 86_400_000) {
      throw badRequest('to', `the period may span at most ${MAX_SPAN_DAYS} days`);
    }
  }
  return { from, to };
}

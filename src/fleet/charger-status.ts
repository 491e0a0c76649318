/**
 * The one rule for what a charger can do right now and over time
 * (docs/metrics.md, "Charger status" and "Down"). Connector 0 is the charger
 * itself, not a place a driver plugs in: it can make the charger Faulted or
 * down, never Available or Charging; those are decided by connectors 1…n.
 */

/**
 * Connector statuses in which a connector cannot take a new driver. Written as
 * the literal list so the partial index connector_status_intervals_down
 * (migration 0004) still matches the queries that use it.
 */
export const DOWN_STATUSES = `('Faulted', 'Unavailable')`;

/**
 * A charger's one status, from its row `c` of chargers (a charger never heard from has none, and
 * is Offline): the status ingest keeps in chargers.reported_status, written
 * by dynamo_sync_charger_status() (src/store/functions/events.sql) in the transaction of every
 * message that can change it, and by crash recovery. The rule itself is dynamo_charger_status()
 * there: Offline without an open connection; down now (connector 0 down, or every reported
 * connector 1…n down) ranks above Charging and Available, so a charger listed Available or
 * Charging is never counted down by uptime (uptime.ts applies the same rule to history). Reading
 * one column of the table that scopes a fleet keeps the summary and the chargers list flat in the
 * size of the fleet (migration 0018, docs/benchmarks.md).
 */
export const chargerStatusOf = (c: string) => `coalesce(${c}.reported_status, 'Offline')`;

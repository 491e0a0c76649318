import type { Queryable } from '../store/db.js';
import { listPage } from '../store/list-page.js';
import { scopeParams, scopeWhere, type Scope } from './scope.js';
import { chargerStatusOf } from './charger-status.js';

export type StatusFilter = 'online' | 'offline' | 'charging' | 'available' | 'faulted';

/** Columns a charger list may be ordered by (each a column of the `listed` CTE below). */
export const CHARGER_SORTS = ['charge_point_id', 'site_id', 'status', 'vendor', 'model', 'firmware_version', 'ocpp_version', 'last_heartbeat', 'last_seen'] as const;
export type ChargerSort = (typeof CHARGER_SORTS)[number];

export interface ChargerListOptions {
  status?: StatusFilter;
  /** Case-insensitive substring of the identity, vendor, model or firmware version. */
  search?: string;
  sort?: ChargerSort;
  order?: 'asc' | 'desc';
}

export interface FleetCharger {
  charge_point_id: string;
  site_id: string;
  vendor: string | null;
  model: string | null;
  firmware_version: string | null;
  status: string;
  ocpp_version: string | null;
  last_seen: Date | null;
  last_heartbeat: Date | null;
  connectors: { connector_id: number; type: string | null; status: string; error_code: string | null }[];
}

/**
 * Chargers with their one status (charger-status.ts) and their connectors (connector 0, the charger itself, is not listed). $1–$3 the scope
 * (scope.ts), $4 status filter, $5 search pattern, then limit and offset. What the charger reported
 * at boot (charger_state) wins over what was registered. One join, from chargers, so that the
 * default order walks chargers_tenant_list_order (migration 0017) and a count without filters
 * drops the join. `filtered` is inlined where it is read (NOT MATERIALIZED): by the page, which
 * stops at the limit, and by the count.
 */
const FILTERED = `listed AS (
  SELECT c.charge_point_id, c.site_id, ${chargerStatusOf('c')} AS status,
         coalesce(st.vendor, c.vendor) AS vendor, coalesce(st.model, c.model) AS model,
         coalesce(st.firmware_version, c.firmware_version) AS firmware_version,
         st.ocpp_version, st.last_seen, st.last_heartbeat
    FROM chargers c
    LEFT JOIN charger_state st ON st.charge_point_id = c.charge_point_id
   WHERE ${scopeWhere('c')}),
filtered AS NOT MATERIALIZED (
  SELECT * FROM listed
   WHERE ($4::text IS NULL
          OR ($4 = 'Online' AND status <> 'Offline')
          OR status = $4)
     AND ($5::text IS NULL
          OR charge_point_id ILIKE $5 OR vendor ILIKE $5 OR model ILIKE $5 OR firmware_version ILIKE $5))`;

/**
 * The filter as the stored value, compared as is: the planner then estimates it from the
 * statistics on the status (migration 0018) and walks the default order's index when most
 * chargers match, instead of joining and sorting the whole fleet.
 */
const STATUS_VALUES: Record<StatusFilter, string> = { online: 'Online', offline: 'Offline', charging: 'Charging', available: 'Available', faulted: 'Faulted' };

const TIME_SORTS: ChargerSort[] = ['last_heartbeat', 'last_seen'];

/**
 * The ORDER BY of a page: the chosen column (from the fixed list only), then the identity so
 * pages never overlap. Text sorts ignore case and compare bytes ("C"), so the order is the
 * same on every database whatever its locale.
 */
function orderBy(sort: ChargerSort, order: 'asc' | 'desc'): string {
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  const nulls = order === 'desc' ? 'NULLS LAST' : 'NULLS FIRST';
  if (!CHARGER_SORTS.includes(sort)) throw new Error(`not a sort column: ${sort}`);
  const exprs = (col: string) => (TIME_SORTS.includes(col as ChargerSort) ? [col] : [`lower(${col}) COLLATE "C"`, `${col} COLLATE "C"`]);
  const id = exprs('charge_point_id').map((e) => `${e} ${dir}`);
  return (sort === 'charge_point_id' ? id : [...exprs(sort).map((e) => `${e} ${dir} ${nulls}`), ...id]).join(', ');
}

/** A page charger's connectors (1…n), computed for the rows of the page only. */
const CONNECTORS = `coalesce((SELECT json_agg(json_build_object('connector_id', x.connector_id, 'type', x.connector_type,
                                                     'status', x.status, 'error_code', x.error_code) ORDER BY x.connector_id)
                     FROM connectors x WHERE x.charge_point_id = page.charge_point_id AND x.connector_id > 0), '[]') AS connectors`;

/** A LIKE pattern that matches the text literally anywhere (%, _ and \ escaped). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function fleetChargers(
  db: Queryable,
  scope: Scope,
  opts: ChargerListOptions,
  page: { limit: number; offset: number },
): Promise<{ chargers: FleetCharger[]; total: number }> {
  const search = opts.search?.trim();
  const params = [...scopeParams(scope), opts.status ? STATUS_VALUES[opts.status] : null, search ? containsPattern(search) : null];
  const orderByColumns = orderBy(opts.sort ?? 'charge_point_id', opts.order ?? 'asc');
  const { rows, total } = await listPage<FleetCharger>(
    db,
    { with: FILTERED, columns: '*', from: 'filtered', where: 'true', orderBy: orderByColumns, pageColumns: CONNECTORS },
    params,
    page,
  );
  return { chargers: rows, total };
}

import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { notFound } from '../errors.js';
import { ChargePointId, Nullable, NullableTimestamp, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { getNode, listNodes } from '../../store/history/nodes.js';
import { listHeldChargers } from '../../store/holds.js';

const Node = Type.Object({
  node_id: Type.String(),
  hostname: Type.String(),
  version: Nullable(Type.String({ description: 'The Dynamo build the node runs.' })),
  state: Type.Union([Type.Literal('active'), Type.Literal('draining'), Type.Literal('expired'), Type.Literal('stopped')], {
    description: 'active; draining (SIGTERM, handing its chargers over); expired (its lease lapsed, recovery pending); stopped.',
  }),
  started_at: Timestamp,
  lease_at: Timestamp,
  lease_expires_at: NullableTimestamp,
  draining_at: NullableTimestamp,
  stopped_at: NullableTimestamp,
  held_chargers: Type.Integer({ description: 'Chargers the database says this node holds.' }),
});
const NodeParams = Type.Object({ node_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

const admin = { auth: { role: 'admin' as const } };

/** The cluster as the database sees it (docs/operations.md "Cluster"); admin only: it spans tenants. */
export async function nodeRoutes(app: App, deps: ApiDeps) {
  app.get(
    '/api/v1/admin/nodes',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'List the nodes of the cluster: lease, version, state and how many chargers each holds',
        querystring: Type.Object(
          { ...PageQuery, all: Type.Boolean({ default: false, description: 'Include stopped nodes.' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ nodes: Type.Array(Node), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { rows, total } = await listNodes(deps.db, req.query);
      return { nodes: rows, total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/admin/nodes/:node_id/chargers',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'The chargers a node holds',
        params: NodeParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            chargers: Type.Array(Type.Object({ charge_point_id: ChargePointId, connection_id: Type.Integer(), held_since: Timestamp })),
            ...PageFields,
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      if (!(await getNode(deps.db, req.params.node_id))) throw notFound('node', 'node_id');
      const { rows, total } = await listHeldChargers(deps.db, req.params.node_id, req.query);
      return { chargers: rows, total, limit: req.query.limit, offset: req.query.offset };
    },
  );
}

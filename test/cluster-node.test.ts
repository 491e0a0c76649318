import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService, ADMIN_KEY, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { connectCharger, upgradeStatus, type ChargerClient } from './support/charger.js';
import { apiClient } from './support/http.js';
import { eventually, history } from './support/history.js';
import { dbKind } from './support/database.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService, type RunningService } from '../src/app.js';
import { recoverExpiredNodes } from '../src/store/history/nodes.js';

const closedOnce = (c: ChargerClient) => new Promise<{ code: number }>((r) => c.once('close', (e: { code: number }) => r(e)));

/** One node, and (on PostgreSQL) a second node on the same database: the holds, the routing function and the lease sweep. */
describe(`one node per charger, on one node and through the database (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let h: ReturnType<typeof history>;
  const admin = () => apiClient(svc.url, ADMIN_KEY);
  const clients: ChargerClient[] = [];
  const connect = async (url: string, id: string) => {
    const c = await connectCharger(url, id);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // A short lease: the sweep runs every 2 s. (Not the shortest, 3 s: on a loaded machine a node may
    // then miss its own renewal, find its lease stale and rightly answer nothing for a while.)
    svc = await startTestService({ DYNAMO_LEASE_TTL: '6' });
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    h = history(svc.service.db);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close({ force: true }).catch(() => undefined)));
    await svc?.close();
  });

  it('a charger is held by the node of its connection while connected; admin lists nodes with lease, version and held chargers', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(svc.wsUrl, id);
    // A Heartbeat is answered from memory: the hold is there once the Connected event committed.
    await eventually(() => svc.service.router.locate(id), (v) => v?.nodeId === svc.service.nodeId);

    const nodes = await admin()('GET', '/api/v1/admin/nodes');
    expect(nodes.status).toBe(200);
    const me = nodes.body.nodes.find((n: any) => n.node_id === svc.service.nodeId);
    expect(me).toMatchObject({ state: 'active', version: '0.1.0', held_chargers: 1, stopped_at: null, draining_at: null });
    expect(Date.parse(me.lease_expires_at) - Date.parse(me.lease_at)).toBe(6_000);
    const held = await admin()('GET', `/api/v1/admin/nodes/${svc.service.nodeId}/chargers`);
    expect(held.body).toMatchObject({ total: 1, chargers: [{ charge_point_id: id }] });

    expect((await admin()('GET', '/api/v1/admin/nodes/node_nope/chargers')).status).toBe(404);
    expect((await admin()('GET', '/api/v1/admin/nodes?limit=0')).status).toBe(400);
    expect((await t.api('GET', '/api/v1/admin/nodes')).status).toBe(403);
    expect((await apiClient(svc.url)('GET', '/api/v1/admin/nodes')).status).toBe(401);

    await c.close();
    await eventually(() => svc.service.router.locate(id), (v) => v === undefined);
    const after = await admin()('GET', '/api/v1/admin/nodes');
    expect(after.body.nodes.find((n: any) => n.node_id === svc.service.nodeId).held_chargers).toBe(0);
  });

  it('a CALL to a charger reaches it wherever it is; a charger nobody holds is Offline; a CALLERROR comes back as such', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(svc.wsUrl, id);
    c.handle('GetConfiguration', async ({ params }: { params?: any }) => ({ configurationKey: [{ key: params.key[0], readonly: true, value: 'x' }] }));
    c.handle('Reset', async () => {
      throw Object.assign(new Error('no resets today'), { rpcErrorCode: 'NotSupported' });
    });
    await c.call('Heartbeat', {});
    const router = svc.service.router;
    const within = () => Date.now() + 10_000;
    expect(await router.call(id, 'GetConfiguration', { key: ['HeartbeatInterval'] }, within())).toMatchObject({
      kind: 'result',
      payload: { configurationKey: [{ key: 'HeartbeatInterval', readonly: true, value: 'x' }] },
    });
    const refused = await router.call(id, 'Reset', { type: 'Soft' }, within());
    expect(refused).toMatchObject({ kind: 'error', code: 'NotSupported' });
    const other = await aCharger(t.api, site);
    expect(await router.call(other, 'Reset', { type: 'Soft' }, within())).toEqual({ kind: 'offline' });
  });

  it('a node presumed dead lets every charger go, and the charger reconnects to a node whose lease holds', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(svc.wsUrl, id);
    await eventually(() => svc.service.router.locate(id), (v) => v !== undefined);
    const closed = closedOnce(c);
    // This node's lease looks lapsed (last renewed longer than its TTL ago), and another node's
    // recovery, the product's own (store/history/nodes.ts), runs. The node keeps renewing every 2 s,
    // which can land between the two statements: then the lease is lapsed again and recovery retried.
    const db = svc.service.db;
    const recovered = await eventually(async () => {
      await db.query(`UPDATE nodes SET lease_at = now() - interval '7 seconds' WHERE node_id = $1`, [svc.service.nodeId]);
      return recoverExpiredNodes(db, 'node_peer', 6);
    }, (r) => r.nodes.includes(svc.service.nodeId));
    expect(recovered.connections).toBeGreaterThanOrEqual(1);
    expect((await closed).code).toBe(1001);
    const rows = await h.connections(id);
    expect(rows.map((r) => r.disconnect_reason)).toEqual(['crash_recovery']);
    // Closed at the node's last lease, which predates this connection: no time counted online after it.
    expect(rows[0]!.disconnected_at).toEqual(rows[0]!.connected_at);
    // The node took a new lease and serves again.
    await eventually(() => db.query<{ stopped_at: Date | null }>('SELECT stopped_at FROM nodes WHERE node_id = $1', [svc.service.nodeId]), (r) => r[0]!.stopped_at === null);
    const again = await connect(svc.wsUrl, id);
    await again.call('Heartbeat', {});
    await eventually(() => svc.service.router.locate(id), (v) => v?.nodeId === svc.service.nodeId);
  });

  describe.skipIf(dbKind !== 'postgres')('two nodes on one PostgreSQL whose bus messages are lost', () => {
    let second: RunningService;
    let secondDir: string;
    beforeAll(async () => {
      secondDir = await mkdtemp(join(tmpdir(), 'dynamo-node2-'));
      // Each node has its own in-process bus: nothing one sends reaches the other, only the database joins them.
      second = await startService(loadConfig({ ...svc.env, PORT: '0', DYNAMO_DATA_DIR: secondDir }), createLogger('silent'));
    });
    afterAll(async () => {
      await second?.stop();
      await rm(secondDir, { recursive: true, force: true });
    });
    const wsOf = (s: RunningService) => `${s.url.replace(/^http/, 'ws')}/ocpp`;

    it('a charger moving to the other node is let go by the first through its lease sweep: one disconnect, one connect, one holder', async () => {
      const id = await aCharger(t.api, site);
      const onFirst = await connect(svc.wsUrl, id);
      await onFirst.call('Heartbeat', {});
      const firstClosed = closedOnce(onFirst);
      const onSecond = await connect(wsOf(second), id);
      await onSecond.call('Heartbeat', {});
      await firstClosed;
      const rows = await eventually(() => h.connections(id), (r) => r.length === 2);
      expect(rows.map((r) => [r.disconnect_reason, r.disconnected_at === null])).toEqual([['replaced', false], [null, true]]);
      expect(await svc.service.router.locate(id)).toMatchObject({ nodeId: second.nodeId });
      expect(svc.service.gateway.isConnected(id)).toBe(false);
    });

    it('the same charger connecting to both nodes at once ends with one open connection, one holder, and the other socket closed', async () => {
      for (let round = 0; round < 3; round++) {
        const id = await aCharger(t.api, site);
        const settled = await Promise.allSettled([connect(svc.wsUrl, id), connect(wsOf(second), id)]);
        expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
        const [a, b] = settled.map((s) => (s as PromiseFulfilledResult<ChargerClient>).value);
        // Whichever claim commits second wins; the other node's lease sweep closes its socket.
        const states = await eventually(async () => [a!.state, b!.state], (st) => st.filter((x) => x === 3 /* CLOSED */).length === 1, 15_000);
        const winner = states[0] === 3 ? second.nodeId : svc.service.nodeId;
        expect(await svc.service.router.locate(id)).toMatchObject({ nodeId: winner });
        const rows = await h.connections(id);
        expect(rows.filter((r) => r.disconnected_at === null)).toHaveLength(1);
        expect(rows).toHaveLength(2);
      }
    });
  });
  it('drain, first step: /readyz answers 503 and new chargers are refused, so the load balancer sends them elsewhere', async () => {
    expect((await apiClient(svc.url)('GET', '/readyz')).status).toBe(200);
    svc.service.gateway.stopAccepting();
    const r = await apiClient(svc.url)('GET', '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('draining');
    const id = await aCharger(t.api, site);
    expect(await upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'])).toBe(503);
  });
});

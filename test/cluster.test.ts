import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ClusterNode } from './support/cluster.js';
import { ADMIN_KEY } from './support/service.js';
import { connectCharger, type ChargerClient } from './support/charger.js';
import { apiClient } from './support/http.js';
import { openSse } from './support/sse.js';
import { eventually } from './support/history.js';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { TEST_NATS_URL, natsPrefix } from './support/nats.js';
import { openDatabase } from '../src/store/open.js';
import type { Db } from '../src/store/db.js';
import { NatsBus } from '../src/cluster/nats-bus.js';
import { ChargerRouter } from '../src/cluster/charger-router.js';
import { createLogger } from '../src/logger.js';
import { migrate } from '../src/store/migrate.js';
import { createTenant } from '../src/store/tenants.js';
import { createSite } from '../src/store/sites.js';
import { insertCharger } from '../src/store/chargers.js';
import { insertApiKey } from '../src/store/api-keys.js';
import { generateApiKey, hashApiKey } from '../src/security/secrets.js';
import { connect as natsConnect } from 'nats';

const CHARGERS = 300;
const PACE_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A charger under load, speaking OCPP 1.6 over a real socket: status, start, two meter values,
 * stop, again. Like a real charger it retries a CALL that got no answer, with the same payload,
 * on whichever node it reconnects to, so what it counts as answered must all be in the database.
 */
class LoadCharger {
  client: ChargerClient | undefined;
  /** The node index of each connection it made, in order. */
  readonly connects: number[] = [];
  readonly answeredStatuses: string[] = [];
  readonly transactions: number[] = [];
  /** When a CALL was last answered, per node index. */
  readonly lastAnswered = new Map<number, number>();
  private phase = 0;
  private seq = 0;
  private pending: { action: string; params: Record<string, unknown> } | undefined;
  closedAt = 0;

  constructor(readonly id: string) {}

  get node(): number {
    return this.connects.at(-1) ?? -1;
  }

  get open(): boolean {
    return this.client?.state === 1;
  }

  async connect(nodes: ClusterNode[], node: number): Promise<void> {
    const c = await connectCharger(nodes[node]!.wsUrl, this.id);
    c.handle('GetConfiguration', async ({ params }: { params?: any }) => ({ configurationKey: [{ key: params.key?.[0] ?? 'x', readonly: true, value: this.id }] }));
    c.on('close', () => (this.closedAt ||= Date.now()));
    this.closedAt = 0;
    this.client = c;
    this.connects.push(node);
  }

  /** Mid-session unless at the start of a cycle. */
  get idle(): boolean {
    return this.phase === 0 && !this.pending;
  }

  async step(): Promise<void> {
    this.pending ??= this.next();
    const r = await this.client!.call(this.pending.action, this.pending.params);
    if (this.pending.action === 'StatusNotification') this.answeredStatuses.push(this.pending.params.info as string);
    if (this.pending.action === 'StartTransaction') this.transactions.push(r.transactionId);
    this.lastAnswered.set(this.node, Date.now());
    this.pending = undefined;
    this.phase = (this.phase + 1) % 5;
  }

  private next(): { action: string; params: Record<string, unknown> } {
    const timestamp = new Date().toISOString();
    const tx = this.transactions.at(-1);
    const wh = ++this.seq * 100;
    switch (this.phase) {
      case 0:
        return { action: 'StatusNotification', params: { connectorId: 1, status: 'Available', errorCode: 'NoError', info: `s${this.seq}`, timestamp } };
      case 1:
        return { action: 'StartTransaction', params: { connectorId: 1, idTag: 'LOAD', meterStart: wh, timestamp } };
      case 4:
        return { action: 'StopTransaction', params: { transactionId: tx, meterStop: wh, timestamp } };
      default:
        return { action: 'MeterValues', params: { connectorId: 1, transactionId: tx, meterValue: [{ timestamp, sampledValue: [{ value: String(wh), unit: 'Wh' }] }] } };
    }
  }
}

describe.skipIf(dbKind !== 'postgres')('a cluster: three dynamo serve processes on one PostgreSQL and NATS (postgres)', () => {
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let nodes: ClusterNode[];
  let db: Db;
  let releaseDb: () => Promise<void>;
  let bus: NatsBus;
  let router: ChargerRouter;
  const chargers: LoadCharger[] = [];
  /** A charger of node 2 that stays away after the SIGKILL, until node 2's lease lapsed. */
  let heldBack: LoadCharger;
  let killedAt = 0;
  const admin = (i = 0) => apiClient(nodes[i]!.url, ADMIN_KEY);
  let running = false;
  let loops: Promise<void>[] = [];
  /** Nodes a charger may reconnect to (the load balancer's view). */
  const alive = new Set<number>();

  const nodeOf = (i: number) => nodes[i]!.nodeId;
  const otherAlive = (not: number, k: number) => {
    const options = [...alive].filter((n) => n !== not);
    return options[k % options.length]!;
  };

  /** One charger's life under load: on a lost connection it reconnects to another live node and retries. */
  const live = async (c: LoadCharger, k: number) => {
    while (running || !c.idle) {
      try {
        if (!c.open) {
          await c.connect(nodes, alive.has(c.node) ? c.node : otherAlive(c.node, k));
        }
        await c.step();
      } catch {
        await sleep(50);
        continue;
      }
      await sleep(PACE_MS);
    }
  };
  const startLoad = (only?: (c: LoadCharger) => boolean) => {
    running = true;
    loops = chargers.filter((c) => !only || only(c)).map((c, k) => live(c, k));
  };
  const stopLoad = async () => {
    running = false;
    await Promise.all(loops);
  };

  let prefix: string;
  let tenantKey: string;
  /** A command through the public API of node `i` (docs/commands.md): it reaches the charger wherever it is held. */
  const command = async (i: number, id: string, parameters: Record<string, unknown> = { keys: ['Owner'] }) =>
    (await apiClient(nodes[i]!.url, tenantKey)('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'get_configuration', parameters, timeout_seconds: 10 } })).body;
  const owner = (id: string) => ({ status: 'Accepted', response: { configurationKey: [{ key: 'Owner', readonly: true, value: id }] } });

  beforeAll(async () => {
    pg = await freshPostgresUrl();
    prefix = natsPrefix();
    // The fleet is made through the store, before the nodes start: this file is about the cluster.
    ({ db, release: releaseDb } = await openDatabase({ databaseUrl: pg!.url, dataDir: '/nonexistent', poolSize: 2 }));
    await migrate(db);
    const tenant = await createTenant(db, 'Cluster CPO');
    const site = await createSite(db, tenant.tenant_id, { name: 'Depot' });
    const ids = Array.from({ length: CHARGERS }, (_, i) => `CL-${String(i).padStart(3, '0')}`);
    for (const id of ids) await insertCharger(db, { chargePointId: id, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
    for (const id of ids) chargers.push(new LoadCharger(id));
    // Registered, never connected: no node holds it.
    await insertCharger(db, { chargePointId: 'CL-nobody', tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
    const k = generateApiKey('tenant');
    await insertApiKey(db, { tenantId: tenant.tenant_id, name: 'cluster', prefix: k.prefix, keyHash: hashApiKey(k.key), scopes: ['write:commands', 'read:commands', 'read:events'] });
    tenantKey = k.key;

    cluster = await startCluster(3, { DATABASE_URL: pg!.url, DYNAMO_NATS_URL: TEST_NATS_URL, DYNAMO_NATS_PREFIX: prefix, DYNAMO_LEASE_TTL: '10',
      // No heartbeat during the test: a stream must open at once, not at its first heartbeat.
      DYNAMO_SSE_HEARTBEAT: '3600' });
    nodes = cluster.nodes;
    nodes.forEach((_, i) => alive.add(i));
    // The test process is a fourth member of the bus (no chargers of its own): what the command
    // service of any node does, it does through the same router.
    bus = await NatsBus.connect({ url: TEST_NATS_URL, prefix, nodeId: 'node_test' });
    // Only to ask where chargers are (locate): it holds none and sends nothing.
    const nowhere = { ocppVersion: async () => undefined, call: async () => ({ kind: 'offline' as const }) };
    router = new ChargerRouter(bus, db, { isConnected: () => false, release: async () => false }, nowhere, createLogger('silent'));

    for (let i = 0; i < chargers.length; i += 50) await Promise.all(chargers.slice(i, i + 50).map((c, j) => c.connect(nodes, (i + j) % 3)));
  }, 120_000);

  afterAll(async () => {
    // CLUSTER_LOG=file keeps what the three nodes logged (warnings and errors), to read after a failure.
    if (process.env.CLUSTER_LOG) (await import('node:fs')).writeFileSync(process.env.CLUSTER_LOG, nodes.map((n) => `=== ${n.nodeId}\n${n.proc.output()}`).join('\n'));
    running = false;
    await Promise.all(chargers.map((c) => c.client?.close({ force: true }).catch(() => undefined)));
    await bus?.close();
    await releaseDb?.();
    await cluster?.stop();
    await pg?.drop();
  }, 60_000);

  it('holds 300 chargers spread over three nodes, each held once; admin lists the nodes with what they hold', async () => {
    const listed = await eventually(
      async () => (await admin()('GET', '/api/v1/admin/nodes')).body,
      (b) => b.nodes.length === 3 && b.nodes.reduce((n: number, x: any) => n + x.held_chargers, 0) === CHARGERS,
      20_000,
    );
    for (const n of nodes) expect(listed.nodes.find((x: any) => x.node_id === n.nodeId)).toMatchObject({ state: 'active', held_chargers: CHARGERS / 3, version: '0.1.0' });
    const [open] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM connections WHERE disconnected_at IS NULL');
    expect(open!.n).toBe(CHARGERS);
  });

  it('commands sent through node 1 reach chargers held by nodes 2 and 3 and come back; one nobody holds is Offline', async () => {
    for (const node of [1, 2]) {
      const targets = chargers.filter((c) => c.node === node).slice(0, 5);
      const outcomes = await Promise.all(targets.map((c) => command(0, c.id)));
      outcomes.forEach((o, i) => expect(o).toMatchObject(owner(targets[i]!.id)));
      expect(await router.locate(targets[0]!.id)).toMatchObject({ nodeId: nodeOf(node), ocppVersion: '1.6' });
    }
    expect(await command(0, 'CL-nobody')).toMatchObject({ status: 'Offline' });
  });

  it('a live event stream on node 1 tells the status changes of chargers held by nodes 2 and 3, in log order, each once', async () => {
    const stream = await openSse(`${nodes[0]!.url}/api/v1/cpo/events?event=connector.status_changed`, tenantKey);
    expect(stream.status).toBe(200);
    try {
      const targets = [1, 2].map((node) => chargers.find((c) => c.node === node && c.idle)!);
      for (const c of targets) {
        await c.client!.call('StatusNotification', { connectorId: 1, status: 'Unavailable', errorCode: 'NoError', timestamp: new Date().toISOString() });
      }
      for (const c of targets) await stream.waitFor((m) => m.data.data.charge_point_id === c.id && m.data.data.status === 'Unavailable', 15_000);
      const seen = stream.messages.filter((m) => targets.some((c) => c.id === m.data.data.charge_point_id) && m.data.data.status === 'Unavailable');
      expect(seen.map((m) => m.data.data.charge_point_id)).toEqual(targets.map((c) => c.id));
      expect(BigInt(seen[0]!.id!) < BigInt(seen[1]!.id!)).toBe(true);
    } finally {
      await stream.close();
    }
  });

  it('a charger that moves from node 2 to node 3 while connected is held once: node 2 closes the old socket on a bus message; one disconnect, one connect', async () => {
    const c = chargers.find((x) => x.node === 1)!;
    const old = c.client!;
    const oldClosed = new Promise<{ reason: string }>((r) => old.once('close', (e: { reason: Buffer | string }) => r({ reason: String(e.reason) })));
    // Watch the subject of node 2's "close your connection" requests: the message, not node 2's lease sweep, does it.
    const watcher = await natsConnect({ servers: new URL(TEST_NATS_URL).host });
    const told: unknown[] = [];
    const sub = watcher.subscribe(`${prefix}.node.${nodeOf(1)}.charger.close`, { callback: (_e, m) => told.push(JSON.parse(new TextDecoder().decode(m.data))) });
    await watcher.flush();
    await c.connect(nodes, 2);
    const moved = await eventually(() => router.locate(c.id), (h) => h?.nodeId === nodeOf(2), 10_000);
    expect((await oldClosed).reason).toBe('replaced');
    await eventually(async () => told, (x) => x.length === 1, 5_000);
    sub.unsubscribe();
    await watcher.close();
    expect(told[0]).toMatchObject({ chargePointId: c.id, reason: 'replaced' });
    const rows = await db.query<{ node_id: string; disconnect_reason: string | null; disconnected_at: Date | null }>(
      'SELECT node_id, disconnect_reason, disconnected_at FROM connections WHERE charge_point_id = $1 ORDER BY connection_id', [c.id]);
    expect(rows.map((r) => [r.node_id, r.disconnect_reason])).toEqual([[nodeOf(1), 'replaced'], [nodeOf(2), null]]);
    expect(moved!.connectionId).toBeGreaterThan(0);
    expect((await c.client!.call('Heartbeat', {})).currentTime).toBeTruthy();
  });

  it('SIGKILL of node 2 under load: its chargers reconnect to nodes 1 and 3, each answered CALL is stored, one disconnect each at the right time, no session duplicated or left open', async () => {
    const held = chargers.find((c) => c.node === 1)!; // kept away from the other nodes for a while
    const victims = chargers.filter((c) => c.node === 1 && c !== held);
    startLoad((c) => c !== held);
    await sleep(2_000);
    alive.delete(1);
    killedAt = Date.now();
    nodes[1]!.proc.child.kill('SIGKILL');
    await nodes[1]!.proc.exited;
    // Until it reconnects, a charger of the dead node is Offline (its node is off the bus; soon its lease lapses).
    expect(await command(0, held.id, {})).toMatchObject({ status: 'Offline' });
    await eventually(async () => victims.filter((c) => c.open && c.node !== 1).length, (n) => n === victims.length, 30_000);
    await sleep(2_000);
    await stopLoad();

    // Every answered StatusNotification and session is in the database, once.
    const statuses = await db.query<{ charge_point_id: string; info: string }>('SELECT charge_point_id, info FROM connector_status_events');
    const stored = new Set(statuses.map((s) => `${s.charge_point_id}/${s.info}`));
    const missing = chargers.flatMap((c) => c.answeredStatuses.filter((i) => !stored.has(`${c.id}/${i}`)).map((i) => `${c.id}/${i}`));
    expect(missing).toEqual([]);
    const sessions = await db.query<{ charge_point_id: string; transaction_id: string; stopped_at: Date | null }>('SELECT charge_point_id, transaction_id, stopped_at FROM sessions');
    expect(sessions.filter((s) => s.stopped_at === null)).toEqual([]);
    const answeredTx = chargers.flatMap((c) => c.transactions.map((tx) => `${c.id}/${tx}`)).sort();
    expect(sessions.map((s) => `${s.charge_point_id}/${s.transaction_id}`).sort()).toEqual(answeredTx);
    expect(answeredTx.length).toBeGreaterThan(CHARGERS / 2);

    // One disconnect per charger of node 2, when node 2 died: as of when it was last heard, which
    // the database knows to within the coalesced last-heard bookkeeping (4 s; 8 s on a loaded
    // machine) of its last answered CALL there; then one connect elsewhere, after it.
    const rows = await db.query<{ charge_point_id: string; node_id: string; connected_at: Date; disconnected_at: Date | null; disconnect_reason: string | null }>(
      'SELECT charge_point_id, node_id, connected_at, disconnected_at, disconnect_reason FROM connections WHERE charge_point_id = ANY($1) ORDER BY connection_id',
      [victims.map((c) => c.id)],
    );
    for (const c of victims) {
      const mine = rows.filter((r) => r.charge_point_id === c.id);
      expect(mine.map((r) => r.node_id)).toEqual(c.connects.map(nodeOf));
      const onDead = mine.find((r) => r.node_id === nodeOf(1))!;
      expect(['replaced', 'crash_recovery']).toContain(onDead.disconnect_reason);
      expect(onDead.disconnected_at!.getTime()).toBeLessThanOrEqual(killedAt + 1_000);
      expect(onDead.disconnected_at!.getTime()).toBeGreaterThan(c.lastAnswered.get(1)! - 8_000);
      const after = mine[mine.indexOf(onDead) + 1]!;
      expect(after.connected_at.getTime()).toBeGreaterThanOrEqual(onDead.disconnected_at!.getTime());
      expect(mine.filter((r) => r.disconnected_at === null)).toHaveLength(1);
    }
    heldBack = held;
  });

  it('SIGTERM drains node 3: exit 0, its chargers are closed with a reason and reconnect to node 1, nothing answered is lost', async () => {
    const drained = chargers.filter((c) => c.node === 2);
    expect(drained.length).toBeGreaterThan(0);
    startLoad((c) => c !== heldBack);
    await sleep(1_500);
    alive.delete(2);
    nodes[2]!.proc.child.kill('SIGTERM');
    expect(await nodes[2]!.proc.exited).toEqual({ code: 0, signal: null });
    await eventually(async () => drained.filter((c) => c.open && c.node === 0).length, (n) => n === drained.length, 30_000);
    await stopLoad();

    const rows = await db.query<{ charge_point_id: string; disconnect_reason: string | null }>(
      'SELECT charge_point_id, disconnect_reason FROM connections WHERE node_id = $1', [nodeOf(2)]);
    expect(rows.length).toBeGreaterThanOrEqual(drained.length);
    expect(rows.filter((r) => r.disconnect_reason === null)).toEqual([]);
    const drainedIds = new Set(drained.map((c) => c.id));
    expect(rows.filter((r) => drainedIds.has(r.charge_point_id)).every((r) => r.disconnect_reason === 'server_shutdown')).toBe(true);
    const statuses = await db.query<{ charge_point_id: string; info: string }>('SELECT charge_point_id, info FROM connector_status_events');
    const stored = new Set(statuses.map((s) => `${s.charge_point_id}/${s.info}`));
    expect(chargers.flatMap((c) => c.answeredStatuses.filter((i) => !stored.has(`${c.id}/${i}`)))).toEqual([]);
    const [open] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE stopped_at IS NULL');
    expect(open!.n).toBe(0);

    const listed = (await admin()('GET', '/api/v1/admin/nodes?all=true')).body.nodes;
    expect(listed.find((n: any) => n.node_id === nodeOf(2))).toMatchObject({ state: 'stopped', held_chargers: 0 });
    // All but the charger kept away from the cluster since node 2 died.
    expect(listed.find((n: any) => n.node_id === nodeOf(0))).toMatchObject({ state: 'active', held_chargers: CHARGERS - 1 });
  });

  it("SIGKILL, later: node 2's lease lapsed and a live node recovered it; its charger that stayed away is Offline until it reconnects", async () => {
    const dead = await eventually(
      async () => (await admin()('GET', '/api/v1/admin/nodes?all=true')).body.nodes.find((n: any) => n.node_id === nodeOf(1)),
      (n) => n.state === 'stopped',
      30_000,
    );
    expect(dead.held_chargers).toBe(0);
    const rows = await db.query<{ disconnect_reason: string; disconnected_at: Date }>('SELECT disconnect_reason, disconnected_at FROM connections WHERE charge_point_id = $1', [heldBack.id]);
    expect(rows.map((r) => r.disconnect_reason)).toEqual(['crash_recovery']);
    // Closed as of node 2's last lease renewal, before it died.
    const [node2] = await db.query<{ lease_at: Date }>('SELECT lease_at FROM nodes WHERE node_id = $1', [nodeOf(1)]);
    expect(rows[0]!.disconnected_at.getTime()).toBe(node2!.lease_at.getTime());
    expect(rows[0]!.disconnected_at.getTime()).toBeLessThanOrEqual(killedAt);
    expect(await command(0, heldBack.id, {})).toMatchObject({ status: 'Offline' });
    // Back on node 1 (the only node left running), and answered again.
    await heldBack.connect(nodes, 0);
    expect(await eventually(() => command(0, heldBack.id), (o) => o.status === 'Accepted', 10_000)).toMatchObject(owner(heldBack.id));
  });
});

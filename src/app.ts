import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ForwardedClientCert } from './ocpp/forwarded-cert.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.js';
import type { Db } from './store/db.js';
import { openDatabase } from './store/open.js';
import { openPostgres } from './store/postgres.js';
import { migrate } from './store/migrate.js';
import { ensureAdminKey, type AdminKeySetup } from './security/admin-key.js';
import { buildHttpApp } from './api/server.js';
import type { App } from './api/types.js';
import { IngestWriter } from './ingest/writer.js';
import { SeenTracker } from './ingest/seen-tracker.js';
import { LeaseKeeper } from './ingest/lease-keeper.js';
import { OcppGateway } from './ocpp/gateway.js';
import { Admission } from './ocpp/admission.js';
import { newId } from './ids.js';
import { EventFeed } from './events/event-feed.js';
import { RetentionKeeper, type RetentionOptions } from './store/retention-keeper.js';
import { pruneTransactionGuard } from './store/transaction-guard.js';
import { pruneFleetEvents } from './store/fleet-events.js';
import { pruneDeliveries } from './store/webhooks.js';
import { AlertEvaluator } from './events/alerts/alert-evaluator.js';
import { WebhookService } from './events/webhooks/webhook-service.js';
import { SecretBox } from './security/secret-box.js';
import { CommandService } from './commands/service.js';
import { MaintenanceAvailability } from './commands/maintenance-availability.js';
import { LocalCommandTransport } from './ocpp/local-command-transport.js';
import { MessageLogWriter } from './ingest/message-log-writer.js';
import { frameRow, type CapturedFrame } from './ocpp/message-capture.js';
import { RollupKeeper } from './fleet/rollup-keeper.js';
import { VacuumKeeper } from './store/vacuum-keeper.js';
import { hostname } from 'node:os';
import { VERSION } from './version.js';
import type { Bus } from './cluster/bus.js';
import { InProcessBus } from './cluster/in-process-bus.js';
import { NatsBus } from './cluster/nats-bus.js';
import { ChargerRouter } from './cluster/charger-router.js';
import { FLEET_EVENTS_CHANNEL, WakeNotifier } from './events/wake-notifier.js';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly db: Db;
  readonly nodeId: string;
  readonly adminKey: AdminKeySetup;
  readonly http: App;
  readonly gateway: OcppGateway;
  readonly commands: CommandService;
  readonly messageLog: MessageLogWriter<CapturedFrame> | undefined;
  readonly maintenance: MaintenanceAvailability;
  /** Node-to-node work (docs/operations.md "Cluster"): in process, or NATS with DYNAMO_NATS_URL. */
  readonly bus: Bus;
  /** CALLs to a charger on whichever node holds it, and the routing function (locate). */
  readonly router: ChargerRouter;
  /** Graceful stop: no new connections, in-flight work finished, history closed, database closed. */
  stop(): Promise<void>;
}

/**
 * The composition root: the one place that builds and wires every part.
 * Nothing else opens databases, timers or sockets on its own.
 */
export async function startService(config: Config, log: Logger): Promise<RunningService> {
  const { db, release } = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    idleTimeoutMs: config.dbIdleTimeoutMs,
  });
  const cleanups: (() => Promise<void>)[] = [release];
  const unwind = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    const report = await migrate(db);
    if (report.applied.length) log.info({ applied: report.applied.map((m) => `${m.version}_${m.name}`) }, 'database migrated');
    const adminKey = await ensureAdminKey(db, config.adminKey, config.dataDir);

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const nodeId = newId('node');

    const bus: Bus = config.natsUrl
      ? await NatsBus.connect({ url: config.natsUrl, prefix: config.natsPrefix, nodeId }, (status) => {
          // Losing NATS degrades the cluster (docs/operations.md "NATS"); its routine pings are not news.
          if (['disconnect', 'reconnect', 'error', 'staleConnection'].includes(status)) log.warn({ status }, 'NATS connection');
        })
      : new InProcessBus(nodeId);
    cleanups.push(() => bus.close());

    const writer = new IngestWriter(db, log, metrics, {
      lanes: db.kind === 'postgres' ? Math.max(1, config.dbPoolSize - 2) : 1,
      maxBatch: 500,
    });
    const seen = new SeenTracker(db, log);

    // Events out (docs/events.md): this node's reader of the durable log. On PostgreSQL every
    // transaction that writes events notifies every node at commit (NOTIFY, its own included),
    // except ingest batches: their writer wakes this node's feed and, by a NOTIFY of its own after
    // the commit, every other node's (wake-notifier.ts). The embedded database has one process,
    // whose writers wake it directly. A slow poll covers a lost wake-up, so one only delays.
    const feed = new EventFeed(db, log, metrics, { pageSize: 1000, pollIntervalMs: config.eventsPollMs });
    await feed.start();
    cleanups.push(() => feed.stop());
    const wakeFeed = db.listen ? () => {} : () => feed.wake();
    let others: WakeNotifier | undefined;
    if (db.listen) {
      cleanups.push(await db.listen(FLEET_EVENTS_CHANNEL, () => feed.wake()));
      const notifier = (others = new WakeNotifier(db, log, config.eventsNotifyMs));
      cleanups.push(() => notifier.stop());
    }
    writer.onCommit((eventsWritten) => {
      if (eventsWritten === 0) return;
      feed.wake();
      others?.wake();
    });
    // Rows kept for a number of days, each table pruned hourly from its old end (retention-keeper.ts).
    const retained: RetentionOptions[] = [
      { what: 'event log', retentionDays: config.eventsRetentionDays, prune: (before, n) => pruneFleetEvents(db, before, n) },
      // Delivery records are kept as long as the events they delivered (docs/alerts.md).
      { what: 'webhook deliveries', retentionDays: config.eventsRetentionDays, prune: (before, n) => pruneDeliveries(db, before, n) },
      { what: 'transaction guard', retentionDays: config.transactionGuardDays, prune: (before, n) => pruneTransactionGuard(db, before, n) },
    ];
    for (const keeper of retained.map((opts) => new RetentionKeeper(log, opts))) {
      keeper.start();
      cleanups.push(() => keeper.stop());
    }
    const alerts = new AlertEvaluator(
      db,
      log,
      metrics,
      { nodeId, intervalSec: config.alertsIntervalSec, heartbeatIntervalSec: config.heartbeatIntervalSec },
      wakeFeed,
    );

    // Webhooks (docs/alerts.md): endpoints held by lease, one node each; workers follow the feed.
    const webhooks = new WebhookService(db, feed, new SecretBox(config.secretsKey), log, metrics, nodeId, {
      policy: { allowHttp: config.webhooksAllowHttp, allowPrivate: config.webhooksAllowPrivate },
      timeoutMs: config.webhooksTimeoutSec * 1000,
      retryBaseMs: config.webhooksRetryBaseMs,
      disableAfterMs: config.webhooksDisableAfterSec * 1000,
      concurrency: config.webhooksConcurrency,
      leaseSec: config.leaseTtlSec,
      ingestBacklog: () => writer.waiting,
    });
    await webhooks.start();
    cleanups.push(() => webhooks.stop());

    // The lease is renewed on a connection of its own, never queued behind ingest (lease-keeper.ts).
    const renewalDb = config.databaseUrl ? await openPostgres({ url: config.databaseUrl, poolSize: 1 }) : db;
    if (renewalDb !== db) cleanups.push(() => renewalDb.close());
    const lease = new LeaseKeeper(
      db,
      log,
      { nodeId, hostname: hostname(), version: VERSION, leaseTtlSec: config.leaseTtlSec },
      {
        held: async (holds, queriedAt) => {
          const closed = await gateway.reconcile(holds, queriedAt);
          if (closed > 0) log.warn({ connections: closed }, 'closed connections of chargers another node took over');
        },
        fenced: async () => void (await gateway.dropAll('lease_lost')),
      },
      renewalDb,
    );
    await lease.start();
    seen.start();
    // The raw message log has its own writer, apart from ingest (docs/api.md, message log). PGlite
    // runs one transaction at a time, so there a log batch is time ingest's next commit waits out:
    // the log writes only while ingest has nothing queued or committing, in batches short enough
    // that a commit arriving meanwhile waits little. On PostgreSQL the log has its own connection
    // and no turns: gated there it shed 2-90 % of its frames at half the maximum rate for a tail
    // inside the noise (docs/benchmarks.md "The message log takes turns on PGlite").
    const embedded = db.kind === 'pglite';
    const messageLog = config.messageLog
      ? new MessageLogWriter<CapturedFrame>(db, frameRow, log, metrics, {
          nodeId, maxBuffered: config.messageLogBuffer, maxBatch: embedded ? 200 : 1000, flushIntervalMs: 200,
          retentionDays: config.messageLogRetentionDays, maintenanceIntervalMs: 3_600_000,
          waitTurn: embedded ? () => writer.whenIdle() : undefined,
        })
      : undefined;
    await messageLog?.start();
    const gateway: OcppGateway = new OcppGateway({
      ingest: writer,
      seen,
      admission: new Admission(db, config.autoRegisterSiteId),
      log,
      metrics,
      nodeId,
      heartbeatIntervalSec: config.heartbeatIntervalSec,
      maxPayloadBytes: config.ocppMaxPayloadBytes,
      maxBadMessages: config.ocppMaxBadMessages,
      maxPendingCalls: config.ocppMaxPendingCalls,
      trustProxy: config.trustProxy,
      frames: messageLog,
      forwardedClientCert: config.clientCertHeader && config.tlsCaFile ? new ForwardedClientCert(config.clientCertHeader, new X509Certificate(await readFile(config.tlsCaFile))) : undefined,
      holds: { replaced: (cp, previous) => router.replaced(cp, previous), leaseFresh: () => lease.fresh() },
    });
    // Commands reach a charger through the node holding it: this node's connections directly, another
    // node's over the bus, where that node's own transport (and its per-charger queue) sends the CALL.
    const router = new ChargerRouter(bus, db, gateway, new LocalCommandTransport(gateway), log);
    await router.start();
    gateway.start();
    alerts.start();
    cleanups.push(() => alerts.stop());

    const commands = new CommandService(db, router, log, metrics, { nodeId, bulkConcurrency: config.commandBulkConcurrency, bulkMax: 10_000 });
    await commands.start();
    const maintenance = new MaintenanceAvailability(db, commands, log, 30_000);
    maintenance.start();
    const rollups = new RollupKeeper(db, log, metrics, { intervalMs: config.rollupIntervalSec * 1000, chargers: 500, hours: 24, maxSteps: 20 });
    if (config.rollupIntervalSec > 0) rollups.start();
    cleanups.push(() => rollups.stop());
    // PostgreSQL vacuums itself (autovacuum); the embedded database does not.
    if (db.kind === 'pglite' && config.vacuumIntervalSec > 0) {
      const vacuum = new VacuumKeeper(db, log, metrics, config.vacuumIntervalSec * 1000);
      vacuum.start();
      cleanups.push(() => vacuum.stop());
    }

    // With a CA, client certificates are requested but not enforced by TLS: admission decides
    // per charger (OCPP Security Profile 3), so Profile 1/2 chargers still connect.
    const tls = config.tlsCertFile && config.tlsKeyFile
      ? {
          cert: await readFile(config.tlsCertFile),
          key: await readFile(config.tlsKeyFile),
          ...(config.tlsCaFile ? { ca: await readFile(config.tlsCaFile), requestCert: true, rejectUnauthorized: false } : {}),
        }
      : null;
    const http = await buildHttpApp(
      {
        db,
        fleetQueryParts: db.kind === 'postgres' ? config.fleetQueryParts : 1,
        adminKeyHash: adminKey.hash,
        metrics,
        events: { feed, maxQueuedPerClient: 10_000, heartbeatMs: config.sseHeartbeatSec * 1000, keyCheckMs: config.sseKeyCheckSec * 1000, flushMs: config.sseFlushMs },
        webhooks,
        commands,
        maintenance,
        rateLimitPerMinute: config.rateLimitPerMinute,
        authFailuresPerMinute: config.authFailuresPerMinute,
        chargers: router,
        draining: () => gateway.draining,
      },
      {
        logger: log,
        trustProxy: config.trustProxy,
        https: tls,
        timeouts: { headersSec: config.httpHeadersTimeoutSec, requestSec: config.httpRequestTimeoutSec, keepAliveSec: config.httpKeepAliveTimeoutSec },
      },
    );
    http.server.on('upgrade', gateway.handleUpgrade);
    cleanups.push(() => lease.stop(), () => http.close());

    try {
      await http.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new Error(`port ${config.port} is already in use (set PORT)`);
      if (code === 'EACCES') throw new Error(`no permission to listen on port ${config.port} (set PORT)`);
      throw err;
    }
    const port = (http.server.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `${tls ? 'https' : 'http'}://${host}:${port}`;

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        // Drain (docs/operations.md "Rolling upgrades"): refuse new chargers and report not ready,
        // finish the commands under way, close every charger (1001, so it reconnects elsewhere),
        // finish their CALLs and the batches holding them, then leave the cluster.
        gateway.stopAccepting();
        await lease.draining().catch((err) => log.warn({ err }, 'could not mark the node draining'));
        await router.stopAnswering();
        await maintenance.close();
        await gateway.close();
        await http.close();
        await commands.close();
        await writer.close();
        // After ingest: on PGlite the log's last batches wait for ingest to be idle (its turns, above).
        await messageLog?.close();
        await seen.stop();
        await unwind();
      })());

    return { url, port, db, nodeId, adminKey, http, gateway, commands, messageLog, maintenance, bus, router, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

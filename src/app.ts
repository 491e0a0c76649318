import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.js';
import type { Db } from './store/db.js';
import { openDatabase } from './store/open.js';
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
import { EventRetention } from './events/event-retention.js';
import { AlertEvaluator } from './events/alerts/alert-evaluator.js';
import { WebhookService } from './events/webhooks/webhook-service.js';
import { SecretBox } from './security/secret-box.js';
import { CommandService } from './commands/service.js';
import { MaintenanceAvailability } from './commands/maintenance-availability.js';
import { LocalCommandTransport } from './ocpp/local-command-transport.js';
import { MessageLogWriter } from './ingest/message-log-writer.js';
import { frameRow, type CapturedFrame } from './ocpp/message-capture.js';
import { RollupKeeper } from './fleet/rollup-keeper.js';

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
  /** Graceful stop: no new connections, in-flight work finished, history closed, database closed. */
  stop(): Promise<void>;
}

/**
 * The composition root: the one place that builds and wires every part.
 * Nothing else opens databases, timers or sockets on its own.
 */
export async function startService(config: Config, log: Logger): Promise<RunningService> {
  const { db, release } = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
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

    const writer = new IngestWriter(db, log, metrics, { lanes: db.kind === 'postgres' ? Math.max(1, config.dbPoolSize - 2) : 1, maxBatch: 500 });
    const seen = new SeenTracker(db, log);

    // Events out (docs/events.md): this node's reader of the durable log, woken by its own commits,
    // by other nodes' commits (NOTIFY) and by a slow poll, so a lost wake-up only delays.
    const feed = new EventFeed(db, log, metrics, { pollIntervalMs: config.eventsPollMs, pageSize: 1000 });
    await feed.start();
    cleanups.push(async () => feed.stop());
    writer.onCommit(() => feed.wake());
    if (db.listen) {
      const unlisten = await db.listen('dynamo_fleet_events', () => feed.wake());
      cleanups.push(unlisten);
    }
    const retention = new EventRetention(db, log, config.eventsRetentionDays);
    retention.start();
    cleanups.push(() => retention.stop());
    const alerts = new AlertEvaluator(
      db,
      log,
      metrics,
      { nodeId, intervalSec: config.alertsIntervalSec, heartbeatIntervalSec: config.heartbeatIntervalSec },
      () => feed.wake(),
    );

    // Webhooks (docs/alerts.md): endpoints held by lease, one node each; workers follow the feed.
    const webhooks = new WebhookService(db, feed, new SecretBox(config.secretsKey), log, metrics, nodeId, {
      policy: { allowHttp: config.webhooksAllowHttp, allowPrivate: config.webhooksAllowPrivate },
      timeoutMs: config.webhooksTimeoutSec * 1000,
      retryBaseMs: config.webhooksRetryBaseMs,
      disableAfterMs: config.webhooksDisableAfterSec * 1000,
      concurrency: config.webhooksConcurrency,
      leaseSec: config.leaseTtlSec,
      retentionDays: config.eventsRetentionDays,
      ingestBacklog: () => writer.waiting,
    });
    await webhooks.start();
    cleanups.push(() => webhooks.stop());

    const lease = new LeaseKeeper(db, log, nodeId, config.leaseTtlSec);
    await lease.start();
    seen.start();
    // The raw message log has its own writer, apart from ingest (docs/api.md, message log).
    const messageLog = config.messageLog
      ? new MessageLogWriter<CapturedFrame>(db, frameRow, log, metrics, {
          nodeId, maxBuffered: config.messageLogBuffer, maxBatch: 1000, flushIntervalMs: 200,
          retentionDays: config.messageLogRetentionDays, maintenanceIntervalMs: 3_600_000,
        })
      : undefined;
    await messageLog?.start();
    const gateway = new OcppGateway({
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
    });
    gateway.start();
    alerts.start();
    cleanups.push(() => alerts.stop());

    // Commands reach chargers through a transport: in-process here; a cluster forwards over its bus.
    const transport = new LocalCommandTransport(gateway);
    const commands = new CommandService(db, transport, log, metrics, { nodeId, bulkConcurrency: config.commandBulkConcurrency, bulkMax: 10_000 });
    await commands.start();
    const maintenance = new MaintenanceAvailability(db, commands, log, 30_000);
    maintenance.start();
    const rollups = new RollupKeeper(db, log, metrics, { intervalMs: config.rollupIntervalSec * 1000, chargers: 500, hours: 24, maxSteps: 20 });
    if (config.rollupIntervalSec > 0) rollups.start();
    cleanups.push(() => rollups.stop());

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
        adminKeyHash: adminKey.hash,
        metrics,
        events: { feed, maxQueuedPerClient: 10_000, heartbeatMs: config.sseHeartbeatSec * 1000 },
        webhooks,
        commands,
        maintenance,
        rateLimitPerMinute: config.rateLimitPerMinute,
        authFailuresPerMinute: config.authFailuresPerMinute,
        chargers: gateway,
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
      await http.listen({ port: config.port, host: config.host });
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
        await maintenance.close();
        await gateway.close();
        await http.close();
        await commands.close();
        await writer.close();
        await messageLog?.close();
        await seen.stop();
        await unwind();
      })());

    return { url, port, db, nodeId, adminKey, http, gateway, commands, messageLog, maintenance, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { startService } from '../app.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

/** `dynamo serve`: runs until SIGTERM/SIGINT, then stops gracefully within 10 s. */
export async function serve(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const service = await startService(config, log);
  const wsUrl = service.url.replace(/^http/, 'ws');
  log.info({ url: service.url, database: service.db.kind, node: service.nodeId }, 'Dynamo CSMS is running');
  process.stdout.write(
    [
      `Dynamo CSMS listening on ${service.url}  (database: ${service.db.kind === 'pglite' ? `embedded, ${config.dataDir}` : 'PostgreSQL'})`,
      `  Dashboard: ${service.url}/  (sign in with a tenant API key)`,
      `  API docs:  ${service.url}/docs`,
      `  Node:      ${service.nodeId} (${config.natsUrl ? 'cluster bus: NATS' : 'one node, bus in process'})`,
      service.adminKey.writtenTo
        ? `  Admin key: generated and written to ${service.adminKey.writtenTo} (shown nowhere else)`
        : `  Admin key: ${service.adminKey.source === 'environment' ? 'from DYNAMO_ADMIN_KEY' : `stored hash; the key was written to ${config.dataDir}/admin-key at first start`}`,
      `  Chargers:  register one (POST /api/v1/cpo/chargers), then point it at ${wsUrl}/ocpp/<charge_point_id>`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error('graceful shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    service.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startService } from '../app.js';
import { createTenant } from '../store/tenants.js';
import { insertApiKey } from '../store/api-keys.js';
import { generateApiKey, hashApiKey } from '../security/secrets.js';
import { backfillHistory } from '../sim/backfill.js';
import { SimulatedFleet } from '../sim/fleet.js';
import { ALL_SCOPES } from '../api/auth.js';

const CHARGERS = 30;

/**
 * `npm run demo`: the service on a fresh embedded database (DATA_DIR/demo),
 * a demo tenant with three sites and 30 days of history, and a live simulated
 * fleet (1.6, 2.0.1 and 2.1, ten times real speed) talking to it.
 */
export async function demo(): Promise<void> {
  const base = loadConfig();
  const dataDir = resolve(base.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true });
  const config = { ...base, databaseUrl: undefined, dataDir, heartbeatIntervalSec: 60, logLevel: base.logLevel === 'info' ? ('warn' as const) : base.logLevel };
  const service = await startService(config, createLogger(config.logLevel));
  const db = service.db;

  const tenant = await createTenant(db, 'Demo CPO');
  const { key, prefix } = generateApiKey('tenant');
  await insertApiKey(db, { tenantId: tenant.tenant_id, name: 'demo', prefix, keyHash: hashApiKey(key), scopes: [...ALL_SCOPES] });
  await backfillHistory(db, { tenantId: tenant.tenant_id, days: 30, chargers: CHARGERS, sites: 3, sitePrefix: 'site_demo_', chargerPrefix: 'DEMO-' });

  const fleet = new SimulatedFleet({
    url: `${service.url.replace(/^http/, 'ws')}/ocpp`, chargers: CHARGERS, ocpp: 'mixed', prefix: 'DEMO-', seed: 1, rampPerSecond: 50,
    speed: 10, sessionsPerDay: 40, faultsPerDay: 2, dropsPerDay: 2, connectors: 2,
  });
  void fleet.start();

  process.stdout.write(
    [
      `Dynamo CSMS demo running on ${service.url}  (embedded database in ${dataDir})`,
      `  Dashboard: ${service.url}/  (open it and paste the API key below to sign in)`,
      `  API key:   ${key}`,
      `  API docs:  ${service.url}/docs`,
      `  Try:       curl -s ${service.url}/api/v1/cpo/fleet/summary -H "Authorization: Bearer ${key}"`,
      `  Fleet:     ${CHARGERS} simulated chargers (OCPP 1.6, 2.0.1, 2.1) at 10× speed, with 30 days of history`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await fleet.stop();
  await service.stop();
}

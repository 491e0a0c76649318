import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/app.js';
import { freshPostgresUrl } from './database.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestService {
  service: RunningService;
  url: string;
  wsUrl: string;
  dataDir: string;
  env: Record<string, string>;
  /** Stops the service (gracefully) and starts it again on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the real service on port 0 with a database of its own: a fresh
 * PostgreSQL database on PostgreSQL runs, an embedded one in a temp dir otherwise.
 */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-test-'));
  const pgDb = await freshPostgresUrl();
  const fullEnv: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DYNAMO_DATA_DIR: dataDir,
    DYNAMO_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
    ...env,
  };
  const log = createLogger(fullEnv.LOG_LEVEL!);
  const start = () => startService(loadConfig(fullEnv), log);
  const t: TestService = {
    service: await start(),
    get url() {
      return this.service.url;
    },
    get wsUrl() {
      return `${this.service.url.replace(/^http/, 'ws')}/ocpp`;
    },
    dataDir,
    env: fullEnv,
    async restart() {
      await t.service.stop();
      fullEnv.PORT = String(t.service.port);
      t.service = await start();
    },
    async close() {
      await t.service.stop();
      await pgDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

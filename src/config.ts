import { resolve } from 'node:path';
import { parseSecretsKey } from './security/secret-box.js';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  adminKey: string | undefined;
  heartbeatIntervalSec: number;
  autoRegisterSiteId: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** CA for client certificates (OCPP Security Profile 3). */
  tlsCaFile: string | undefined;
  /** Header in which a TLS-terminating proxy forwards the client certificate it verified (lower case). */
  clientCertHeader: string | undefined;
  rateLimitPerMinute: number;
  /** Failed API authentications per minute per client address before 429. */
  authFailuresPerMinute: number;
  /** Seconds a client may take to send its request headers, its whole request, and idle between requests. */
  httpHeadersTimeoutSec: number;
  httpRequestTimeoutSec: number;
  httpKeepAliveTimeoutSec: number;
  /** Connections the kernel may hold for this process before it accepts them (capped by net.core.somaxconn). */
  listenBacklog: number;
  dbPoolSize: number;
  /** Milliseconds before an idle PostgreSQL connection is closed (10 s); 0 keeps them. */
  dbIdleTimeoutMs: number;
  trustProxy: boolean;
  ocppMaxPayloadBytes: number;
  ocppMaxBadMessages: number;
  /** CALLs one connection may have waiting or in progress; more are refused (OCPP-J allows one). */
  ocppMaxPendingCalls: number;
  leaseTtlSec: number;
  /** Days the fleet event log keeps an event (docs/events.md). */
  eventsRetentionDays: number;
  /** Statements the uptime of a large fleet runs at once on PostgreSQL (src/fleet/uptime.ts). */
  fleetQueryParts: number;
  /** Days an OCPP 2.x TransactionEvent's seqNo is kept to recognise a retransmission of it. */
  transactionGuardDays: number;
  /** How often the event log is read without a wake-up (a lost wake-up delays by at most this). */
  eventsPollMs: number;
  /** Between two wakes of the other nodes' event feeds after ingest commits (wake-notifier.ts). */
  eventsNotifyMs: number;
  /** Seconds between heartbeat comments on an idle event stream. */
  sseHeartbeatSec: number;
  /** Seconds between checks that the keys of open event streams still authenticate. */
  sseKeyCheckSec: number;
  sseFlushMs: number;
  /** Seconds between evaluations of the alert rules. */
  alertsIntervalSec: number;
  /** Webhooks (docs/alerts.md): http:// targets allowed (tests, labs). */
  webhooksAllowHttp: boolean;
  /** Webhook targets on loopback, private, link-local… addresses allowed (tests, labs). */
  webhooksAllowPrivate: boolean;
  /** Seconds one webhook request may take. */
  webhooksTimeoutSec: number;
  /** First retry delay of a failed delivery; doubles per attempt up to an hour (with jitter). */
  webhooksRetryBaseMs: number;
  /** Seconds of unbroken failure after which an endpoint is disabled. */
  webhooksDisableAfterSec: number;
  /** Webhook requests this node has in flight at most (one per endpoint at a time). */
  webhooksConcurrency: number;
  /** AES-256 key sealing stored webhook secrets; unset = stored in clear. */
  secretsKey: Buffer | undefined;
  /** Bulk command items in flight at once on this node. */
  commandBulkConcurrency: number;
  /** The raw OCPP message log: on or off for the whole service (tenants may switch theirs off). */
  messageLog: boolean;
  messageLogRetentionDays: number;
  /** Frames the message log holds in memory at most before it sheds. */
  messageLogBuffer: number;
  /** Seconds between rollup maintenance runs (docs/metrics.md "Rollups"); 0 turns it off. */
  rollupIntervalSec: number;
  /** Seconds between the embedded database's vacuum passes (PGlite has no autovacuum); 0 = never. */
  vacuumIntervalSec: number;
  /** The NATS bus of a cluster (docs/operations.md "Cluster"); unset = one node, bus in process. */
  natsUrl: string | undefined;
  /** First word of every NATS subject, so clusters sharing a NATS stay apart. */
  natsPrefix: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, reason: string) {
    super(`${variable}: ${reason}`);
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the whole configuration once; the first bad variable throws a ConfigError naming it. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const adminKey = str(env, 'DYNAMO_ADMIN_KEY');
  if (adminKey !== undefined && adminKey.length < 24) {
    throw new ConfigError('DYNAMO_ADMIN_KEY', 'must be at least 24 characters');
  }
  const autoRegisterSiteId = str(env, 'DYNAMO_AUTO_REGISTER');
  if (autoRegisterSiteId !== undefined && !/^site_[0-9A-Za-z]+$/.test(autoRegisterSiteId)) {
    throw new ConfigError('DYNAMO_AUTO_REGISTER', `expected a site id (site_…), got "${autoRegisterSiteId}"`);
  }
  const tlsCertFile = str(env, 'DYNAMO_TLS_CERT');
  const tlsKeyFile = str(env, 'DYNAMO_TLS_KEY');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(tlsCertFile ? 'DYNAMO_TLS_KEY' : 'DYNAMO_TLS_CERT', 'DYNAMO_TLS_CERT and DYNAMO_TLS_KEY go together');
  }
  const tlsCaFile = str(env, 'DYNAMO_TLS_CA');
  const clientCertHeader = str(env, 'DYNAMO_CLIENT_CERT_HEADER')?.toLowerCase();
  if (clientCertHeader !== undefined) {
    if (!/^[a-z0-9-]{1,64}$/.test(clientCertHeader)) throw new ConfigError('DYNAMO_CLIENT_CERT_HEADER', `expected an HTTP header name, got "${clientCertHeader}"`);
    if (!bool(env, 'DYNAMO_TRUST_PROXY', false)) throw new ConfigError('DYNAMO_CLIENT_CERT_HEADER', 'a forwarded certificate is trusted only from a proxy: set DYNAMO_TRUST_PROXY=true too');
    if (tlsCaFile === undefined) throw new ConfigError('DYNAMO_CLIENT_CERT_HEADER', 'set DYNAMO_TLS_CA: forwarded certificates are checked against it');
  }
  if (tlsCaFile !== undefined && tlsCertFile === undefined && clientCertHeader === undefined) {
    throw new ConfigError('DYNAMO_TLS_CA', 'client certificates need TLS (DYNAMO_TLS_CERT and DYNAMO_TLS_KEY) or a proxy that forwards them (DYNAMO_CLIENT_CERT_HEADER)');
  }
  const natsUrl = str(env, 'DYNAMO_NATS_URL');
  if (natsUrl !== undefined) {
    if (!/^(nats|tls):\/\/[^\s/]+\/?$/.test(natsUrl)) throw new ConfigError('DYNAMO_NATS_URL', 'expected nats://[user:password@]host[:port] or tls://…');
    // The embedded database belongs to one process: a cluster's nodes share a PostgreSQL.
    if (databaseUrl === undefined) throw new ConfigError('DYNAMO_NATS_URL', 'a cluster needs PostgreSQL: set DATABASE_URL too (the embedded database serves one process)');
  }
  const natsPrefix = str(env, 'DYNAMO_NATS_PREFIX') ?? 'dynamo';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(natsPrefix)) throw new ConfigError('DYNAMO_NATS_PREFIX', `expected letters, digits, "_" or "-", got "${natsPrefix}"`);
  const httpHeadersTimeoutSec = int(env, 'DYNAMO_HTTP_HEADERS_TIMEOUT', 20, 1, 3600);
  const httpRequestTimeoutSec = int(env, 'DYNAMO_HTTP_REQUEST_TIMEOUT', 120, 1, 86_400);
  // Node refuses a header deadline later than the whole-request deadline.
  if (httpHeadersTimeoutSec > httpRequestTimeoutSec) {
    throw new ConfigError('DYNAMO_HTTP_HEADERS_TIMEOUT', `must not exceed DYNAMO_HTTP_REQUEST_TIMEOUT (${httpRequestTimeoutSec})`);
  }
  const secretsKeyRaw = str(env, 'DYNAMO_SECRETS_KEY');
  const secretsKey = secretsKeyRaw === undefined ? undefined : parseSecretsKey(secretsKeyRaw);
  if (secretsKeyRaw !== undefined && !secretsKey) {
    throw new ConfigError('DYNAMO_SECRETS_KEY', 'expected 32 bytes as 64 hex digits or 44 base64 characters (e.g. `openssl rand -hex 32`)');
  }
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host: str(env, 'HOST') ?? '0.0.0.0',
    databaseUrl,
    dataDir: resolve(str(env, 'DYNAMO_DATA_DIR') ?? './data'),
    adminKey,
    heartbeatIntervalSec: int(env, 'DYNAMO_HEARTBEAT_INTERVAL', 300, 1, 86_400),
    autoRegisterSiteId,
    logLevel: logLevel as Config['logLevel'],
    tlsCertFile,
    tlsKeyFile,
    tlsCaFile,
    clientCertHeader,
    rateLimitPerMinute: int(env, 'DYNAMO_RATE_LIMIT', 1200, 1, 1_000_000),
    authFailuresPerMinute: int(env, 'DYNAMO_AUTH_FAILURE_LIMIT', 30, 1, 1_000_000),
    httpHeadersTimeoutSec,
    httpRequestTimeoutSec,
    httpKeepAliveTimeoutSec: int(env, 'DYNAMO_HTTP_KEEP_ALIVE_TIMEOUT', 72, 1, 3600),
    // Node's default (511) is too few for a fleet reconnecting at once: the overflow waits on SYN
    // retransmits and SYN cookies, and what is not accepted within about two minutes is reset
    // (docs/benchmarks.md, "The connection storm at 19,000 chargers"). Ask for the most; Linux grants
    // at most net.core.somaxconn.
    listenBacklog: int(env, 'DYNAMO_LISTEN_BACKLOG', 65_535, 1, 1_000_000),
    dbPoolSize: int(env, 'DYNAMO_DB_POOL_SIZE', 10, 2, 500),
    // 0: keep every connection the pool opened (src/store/postgres.ts says why).
    dbIdleTimeoutMs: int(env, 'DYNAMO_DB_IDLE_TIMEOUT', 0, 0, 86_400) * 1000,
    fleetQueryParts: int(env, 'DYNAMO_FLEET_QUERY_PARTS', 2, 1, 64),
    trustProxy: bool(env, 'DYNAMO_TRUST_PROXY', false),
    ocppMaxPayloadBytes: int(env, 'DYNAMO_OCPP_MAX_PAYLOAD', 65_536, 1024, 16 * 1024 * 1024),
    ocppMaxBadMessages: int(env, 'DYNAMO_OCPP_MAX_BAD_MESSAGES', 10, 0, 1_000_000),
    ocppMaxPendingCalls: int(env, 'DYNAMO_OCPP_MAX_PENDING_CALLS', 10, 1, 1000),
    leaseTtlSec: int(env, 'DYNAMO_LEASE_TTL', 15, 3, 3600),
    eventsRetentionDays: int(env, 'DYNAMO_EVENTS_RETENTION_DAYS', 14, 1, 3650),
    transactionGuardDays: int(env, 'DYNAMO_TRANSACTION_GUARD_DAYS', 14, 1, 3650),
    eventsPollMs: int(env, 'DYNAMO_EVENTS_POLL_MS', 2000, 50, 60_000),
    eventsNotifyMs: int(env, 'DYNAMO_EVENTS_NOTIFY_MS', 100, 0, 10_000),
    sseHeartbeatSec: int(env, 'DYNAMO_SSE_HEARTBEAT', 15, 1, 3600),
    sseKeyCheckSec: int(env, 'DYNAMO_SSE_KEY_CHECK', 5, 1, 3600),
    sseFlushMs: int(env, 'DYNAMO_SSE_FLUSH_MS', 100, 0, 10_000),
    alertsIntervalSec: int(env, 'DYNAMO_ALERTS_INTERVAL', 15, 1, 3600),
    webhooksAllowHttp: bool(env, 'DYNAMO_WEBHOOKS_ALLOW_HTTP', false),
    webhooksAllowPrivate: bool(env, 'DYNAMO_WEBHOOKS_ALLOW_PRIVATE', false),
    webhooksTimeoutSec: int(env, 'DYNAMO_WEBHOOKS_TIMEOUT', 10, 1, 60),
    webhooksRetryBaseMs: int(env, 'DYNAMO_WEBHOOKS_RETRY_BASE_MS', 5000, 10, 3_600_000),
    webhooksDisableAfterSec: int(env, 'DYNAMO_WEBHOOKS_DISABLE_AFTER', 86_400, 1, 30 * 86_400),
    webhooksConcurrency: int(env, 'DYNAMO_WEBHOOKS_CONCURRENCY', 32, 1, 10_000),
    secretsKey,
    commandBulkConcurrency: int(env, 'DYNAMO_COMMAND_BULK_CONCURRENCY', 20, 1, 1000),
    messageLog: bool(env, 'DYNAMO_MESSAGE_LOG', true),
    messageLogRetentionDays: int(env, 'DYNAMO_MESSAGE_LOG_RETENTION_DAYS', 7, 1, 3650),
    messageLogBuffer: int(env, 'DYNAMO_MESSAGE_LOG_BUFFER', 50_000, 100, 10_000_000),
    rollupIntervalSec: int(env, 'DYNAMO_ROLLUP_INTERVAL', 60, 0, 86_400),
    vacuumIntervalSec: int(env, 'DYNAMO_VACUUM_INTERVAL', 300, 0, 86_400),
    natsUrl,
    natsPrefix,
  };
}

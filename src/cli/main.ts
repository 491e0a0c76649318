#!/usr/bin/env node
import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig } from '../config.js';
import { serve } from './serve.js';
import { parseDuration, simulate } from './simulate.js';
import { demo } from './demo.js';
import { withDatabase } from './with-database.js';
import { migrate } from '../store/migrate.js';
import { createTenant } from '../store/tenants.js';
import { getTenant } from '../store/tenants.js';
import { insertApiKey } from '../store/api-keys.js';
import { generateApiKey, hashApiKey } from '../security/secrets.js';
import { ALL_SCOPES } from '../api/auth.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** Known failures end with one line and exit code 1; only bugs show a stack trace. */
function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  const prefix = err instanceof ConfigError ? 'invalid configuration: ' : '';
  process.stderr.write(`dynamo: ${prefix}${message}\n`);
  process.exit(1);
}

const program = new Command()
  .name('dynamo')
  .description('Dynamo CSMS: OCPP-J charging station management with a fleet dashboard API')
  .version(pkg.version, '-v, --version');

program
  .command('serve')
  .description('run the service: REST API, docs and the OCPP endpoint on PORT (configuration: README)')
  .action(async () => {
    try {
      await serve(loadConfig());
    } catch (err) {
      fail(err);
    }
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    try {
      await withDatabase(loadConfig(), async (db) => {
        const r = await migrate(db);
        process.stdout.write(r.applied.length ? `applied ${r.applied.map((m) => `${m.version}_${m.name}`).join(', ')}; schema at version ${r.version}\n` : `schema up to date at version ${r.version}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });

program
  .command('openapi')
  .description('print the OpenAPI document of this build (JSON), as served at /openapi.json')
  .action(async () => {
    try {
      const { openapiDocument } = await import('../api/openapi-document.js');
      process.stdout.write(`${JSON.stringify(await openapiDocument(), null, 2)}\n`);
    } catch (err) {
      fail(err);
    }
  });

const tenants = program.command('tenants').description('manage tenants (CPO organisations)');
tenants
  .command('create')
  .description('create a tenant and print its id')
  .argument('<name>', 'tenant name')
  .action(async (name: string) => {
    try {
      await withDatabase(loadConfig(), async (db) => {
        await migrate(db);
        const t = await createTenant(db, name);
        process.stdout.write(`${t.tenant_id}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });

const keys = program.command('keys').description('manage tenant API keys');
keys
  .command('create')
  .description('create an API key for a tenant and print only the key (shown once)')
  .requiredOption('--tenant <tenant_id>', 'the tenant the key belongs to')
  .option('--name <name>', 'a label for the key', 'cli')
  .addOption(new Option('--scopes <scopes...>', 'scopes (default: all)').choices([...ALL_SCOPES]))
  .action(async (opts: { tenant: string; name: string; scopes?: string[] }) => {
    try {
      await withDatabase(loadConfig(), async (db) => {
        await migrate(db);
        if (!(await getTenant(db, opts.tenant))) throw new Error(`no tenant ${opts.tenant}`);
        const { key, prefix } = generateApiKey('tenant');
        await insertApiKey(db, { tenantId: opts.tenant, name: opts.name, prefix, keyHash: hashApiKey(key), scopes: opts.scopes ?? [...ALL_SCOPES] });
        process.stdout.write(`${key}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });

program
  .command('simulate')
  .description('run a fleet of virtual chargers speaking real OCPP-J to any CSMS (ours or another)')
  .requiredOption('--url <url>', 'the CSMS OCPP endpoint, e.g. ws://localhost:8080/ocpp')
  .option('--chargers <n>', 'how many chargers', '10')
  .addOption(new Option('--ocpp <version>', 'OCPP version').choices(['1.6', '2.0.1', '2.1', 'mixed']).default('1.6'))
  .option('--prefix <prefix>', 'identity prefix: chargers are <prefix>00001, <prefix>00002, …', 'SIM-')
  .option('--site <site_id>', 'with --api-key: register the chargers in this site of a Dynamo CSMS first')
  .option('--api-key <key>', 'tenant API key for --site (Dynamo only)')
  .option('--password <password>', 'HTTP Basic password every charger presents (Security Profile 1/2)')
  .option('--speed <x>', 'time runs this many times faster (intervals, sessions, outages)', '1')
  .option('--duration <time>', 'stop after 90s, 15m or 2h (default: until Ctrl-C)')
  .option('--seed <n>', 'random seed; the same seed replays the same behaviour')
  .option('--ramp <per-second>', 'new connections per second while starting', '200')
  .option('--sessions-per-day <n>', 'charging sessions per charger per simulated day', '6')
  .option('--faults-per-day <n>', 'faults per charger per simulated day', '0.3')
  .option('--drops-per-day <n>', 'connection drops per charger per simulated day', '0.5')
  .option('--connectors <n>', 'connectors (EVSEs) per charger', '2')
  .action(async (o: Record<string, string>) => {
    try {
      const num = (name: string, min: number) => {
        const v = Number(o[name]);
        if (!Number.isFinite(v) || v < min) throw new Error(`--${name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be a number ≥ ${min}`);
        return v;
      };
      await simulate({
        url: o.url!,
        chargers: Math.floor(num('chargers', 1)),
        ocpp: o.ocpp as '1.6',
        prefix: o.prefix!,
        site: o.site,
        apiKey: o.apiKey,
        password: o.password,
        speed: num('speed', 0.001),
        durationSeconds: o.duration ? parseDuration(o.duration) : undefined,
        seed: o.seed !== undefined ? Math.floor(num('seed', 0)) : Math.floor(Math.random() * 2 ** 31),
        rampPerSecond: num('ramp', 1),
        sessionsPerDay: num('sessionsPerDay', 0),
        faultsPerDay: num('faultsPerDay', 0),
        dropsPerDay: num('dropsPerDay', 0),
        connectors: Math.floor(num('connectors', 1)),
      });
      process.exit(0);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('demo')
  .description('start the service on a fresh embedded database with 30 days of demo history and a live simulated fleet')
  .action(async () => {
    try {
      await demo();
      process.exit(0);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('version')
  .description('print the version')
  .action(() => void process.stdout.write(`${pkg.version}\n`));

program.parseAsync().catch(fail);


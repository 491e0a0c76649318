import { afterAll, beforeAll } from 'vitest';
import { startTestService, type TestService } from './service.js';
import { aSite, aTenant, type TenantFixture } from './builders.js';
import { connectCharger, type ChargerClient } from './charger.js';

export interface OcppTestbed {
  readonly svc: TestService;
  /** A tenant with an all-scopes key, and a site of it. */
  readonly t: TenantFixture;
  readonly site: string;
  /** Connects a registered charger over real OCPP-J; closed when the file ends. */
  connect(id: string, protocol?: string): Promise<ChargerClient>;
}

/**
 * The real service for one test file (started in beforeAll, stopped in afterAll)
 * with a tenant and a site, and the chargers the tests connect.
 */
export function ocppTestbed(env: Record<string, string> = {}): OcppTestbed {
  const clients: ChargerClient[] = [];
  let svc: TestService | undefined;
  let t: TenantFixture | undefined;
  let site: string | undefined;
  beforeAll(async () => {
    svc = await startTestService(env);
    t = await aTenant(svc.url);
    site = await aSite(t.api);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close({ force: true }).catch(() => {})));
    await svc?.close();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('ocppTestbed: used before beforeAll ran');
    return v;
  };
  return {
    get svc() {
      return ready(svc);
    },
    get t() {
      return ready(t);
    },
    get site() {
      return ready(site);
    },
    async connect(id, protocol = 'ocpp1.6') {
      const c = await connectCharger(ready(svc).wsUrl, id, { protocols: [protocol] });
      clients.push(c);
      return c;
    },
  };
}

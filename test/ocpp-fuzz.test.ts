import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { connectCharger } from './support/charger.js';
import { history } from './support/history.js';
import { dbKind } from './support/database.js';

/** mulberry32: a small seeded generator, so a failure can be replayed with the same seed. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof seeded>;

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const FRAMES_PER_CHARGER = 400;
const ts = (rng: Rng) => new Date(Date.now() - rng.int(3_600_000)).toISOString();

/** Well-formed CALL payloads a charger of each version might send (valid or not against the schema). */
const CALLS: Record<string, ((rng: Rng) => [string, Record<string, unknown>])[]> = {
  'ocpp1.6': [
    () => ['Heartbeat', {}],
    (r) => ['StatusNotification', { connectorId: r.int(3), errorCode: r.pick(['NoError', 'GroundFailure']), status: r.pick(['Available', 'Charging', 'Faulted']), timestamp: ts(r) }],
    (r) => ['StartTransaction', { connectorId: 1 + r.int(2), idTag: `TAG${r.int(9)}`, meterStart: r.int(100_000), timestamp: ts(r) }],
    (r) => ['StopTransaction', { transactionId: r.int(50), meterStop: r.int(200_000), timestamp: ts(r) }],
    (r) => ['MeterValues', { connectorId: 1, transactionId: r.int(50), meterValue: [{ timestamp: ts(r), sampledValue: [{ value: String(r.int(1e6)) }] }] }],
    (r) => ['Authorize', { idTag: `TAG${r.int(9)}` }],
    (r) => ['DataTransfer', { vendorId: 'acme', data: `d${r.int(99)}` }],
  ],
  'ocpp2.0.1': [
    () => ['Heartbeat', {}],
    (r) => ['StatusNotification', { timestamp: ts(r), connectorStatus: r.pick(['Available', 'Occupied', 'Faulted']), evseId: 1 + r.int(2), connectorId: 1 }],
    (r) => ['TransactionEvent', {
      eventType: r.pick(['Started', 'Updated', 'Ended']), timestamp: ts(r), triggerReason: 'MeterValuePeriodic', seqNo: r.int(20),
      transactionInfo: { transactionId: `TX${r.int(5)}`, chargingState: r.pick(['Charging', 'EVConnected']) }, evse: { id: 1 + r.int(2) },
      meterValue: [{ timestamp: ts(r), sampledValue: [{ value: r.int(1e6) }] }],
    }],
    (r) => ['NotifyEvent', { generatedAt: ts(r), seqNo: r.int(9), eventData: [{ eventId: r.int(99), timestamp: ts(r), trigger: 'Alerting', actualValue: r.pick(['true', 'false']), eventNotificationType: 'HardWiredNotification', component: { name: 'Connector', evse: { id: 1 } }, variable: { name: 'Problem' } }] }],
    (r) => ['MeterValues', { evseId: 1, meterValue: [{ timestamp: ts(r), sampledValue: [{ value: r.int(1e6) }] }] }],
  ],
};

/** Ways to spoil a payload: each yields something a real charger has sent or an attacker would. */
const SPOILERS: ((p: Record<string, unknown>, rng: Rng) => unknown)[] = [
  (p) => Object.fromEntries(Object.entries(p).slice(1)), // a required field missing
  (p) => ({ ...p, [Object.keys(p)[0] ?? 'x']: { nested: true } }), // wrong type
  (p) => JSON.parse(JSON.stringify(p).replace(/"(\w+)":"([^"]*)"/, '"$1":"$2\\u0000"')), // NUL in a string
  (p) => JSON.parse(JSON.stringify(p).replace(/"(\w+)":"([^"]*)"/, '"$1":"$2\\ud800"')), // lone surrogate
  (p) => JSON.parse(JSON.stringify(p).replace(/"(connectorId|evseId|seqNo|transactionId)":\d+/, '"$1":9999999999')), // beyond int4
  (p) => JSON.parse(JSON.stringify(p).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/, '0000-01-01T00:00:00Z')), // year 0000
  (p) => JSON.parse(JSON.stringify(p).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/, '2016-12-31T23:59:60Z')), // leap second
  (p, r) => ({ ...p, extra: 'x'.repeat(r.int(3) * 1000) }), // an unknown property
];

/** Frames that are not well-formed CALLs at all. */
const GARBAGE: ((id: string, rng: Rng) => string)[] = [
  () => 'not json',
  () => '{"an":"object"}',
  (id) => `[2,"${id}"`,
  (id) => `[9,"${id}","Heartbeat",{}]`,
  (id) => `[2,${id.length},"Heartbeat",{}]`,
  () => '[]',
  (id) => `[3,"${id}",{}]`, // a CALLRESULT for nothing we asked
];

interface Fuzzer {
  id: string;
  protocol: string;
  ws: WebSocket;
  answers: Map<string, number>;
  /** The CALLERROR code of each refused CALL. */
  errors: Map<string, string>;
  waiters: Map<string, () => void>;
}

async function openFuzzer(wsUrl: string, id: string, protocol: string): Promise<Fuzzer> {
  const ws = new WebSocket(`${wsUrl}/${id}`, [protocol]);
  const f: Fuzzer = { id, protocol, ws, answers: new Map(), errors: new Map(), waiters: new Map() };
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as unknown[];
    const msgId = String(m[1]);
    f.answers.set(msgId, (f.answers.get(msgId) ?? 0) + 1);
    if (m[0] === 4) f.errors.set(msgId, String(m[2]));
    f.waiters.get(msgId)?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return f;
}

/** Sends a seeded mix of valid, schema-violating, unstorable and malformed frames; returns the ids of the well-formed CALLs. */
async function fuzz(f: Fuzzer, rng: Rng): Promise<string[]> {
  const wellFormed: string[] = [];
  for (let i = 0; i < FRAMES_PER_CHARGER; i++) {
    const msgId = `${f.id}-${i}`;
    const roll = rng.next();
    if (roll < 0.1) {
      f.ws.send(rng.pick(GARBAGE)(msgId, rng));
      continue;
    }
    const [action, params] = rng.pick(CALLS[f.protocol]!)(rng);
    const payload = roll < 0.45 ? rng.pick(SPOILERS)(params, rng) : params;
    const answered = new Promise<void>((resolve) => f.waiters.set(msgId, resolve));
    f.ws.send(JSON.stringify([2, msgId, roll < 0.15 ? 'NoSuchAction' : action, payload]));
    wellFormed.push(msgId);
    await Promise.race([answered, new Promise((r) => setTimeout(r, 10_000))]);
    f.waiters.delete(msgId);
  }
  return wellFormed;
}

describe(`OCPP fuzz: a seeded mix of good and hostile frames from several chargers (${dbKind}, seed ${SEED})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;

  beforeAll(async () => {
    // Malformed frames must not end the fuzzers' connections before the run does.
    svc = await startTestService({ DYNAMO_OCPP_MAX_BAD_MESSAGES: '1000000' });
    t = await aTenant(svc.url);
    site = await aSite(t.api);
  });
  afterAll(async () => svc?.close());

  it('stays up, answers every well-formed CALL exactly once, and leaves a bystander charger untouched', async () => {
    const bystanderId = await aCharger(t.api, site);
    const bystander = await connectCharger(svc.wsUrl, bystanderId);
    await bystander.call('BootNotification', { chargePointVendor: 'ABB', chargePointModel: 'Terra 54' });
    await bystander.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
    const { transactionId } = await bystander.call('StartTransaction', { connectorId: 1, idTag: 'B', meterStart: 500, timestamp: new Date().toISOString() });
    const h = history(svc.service.db);
    const snapshot = async () => ({
      sessions: await h.sessions(bystanderId),
      samples: await h.samples(bystanderId),
      connectors: await h.connectors(bystanderId),
      intervals: await h.intervals(bystanderId, 1),
      errors: await h.errors(bystanderId),
      messages: await h.messages(bystanderId),
      // Uptime since registration moves with the clock alone, and last_seen is written a few seconds
      // late (coalesced): both are checked apart; everything else must stand still.
      diagnostics: { ...(await t.api('GET', `/api/v1/cpo/chargers/${bystanderId}/diagnostics`)).body, uptime_30d_percent: undefined, last_seen: undefined },
    });
    const bystanderLastHeard = Date.now();
    const before = await snapshot();

    const rng = seeded(SEED);
    const fuzzers = await Promise.all(
      ['ocpp1.6', 'ocpp1.6', 'ocpp1.6', 'ocpp2.0.1', 'ocpp2.0.1', 'ocpp2.0.1'].map(async (protocol) =>
        openFuzzer(svc.wsUrl, await aCharger(t.api, site), protocol),
      ),
    );
    // One generator per charger, drawn from the seed in a fixed order, so each charger's frames are reproducible.
    const sent = await Promise.all(fuzzers.map((f) => fuzz(f, seeded(rng.int(2 ** 31)))));
    await new Promise((r) => setTimeout(r, 500)); // room for a late duplicate answer to show

    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    fuzzers.forEach((f, i) => {
      const counts = sent[i]!.map((id) => f.answers.get(id) ?? 0);
      expect(counts.filter((n) => n !== 1), `${f.protocol} charger ${f.id}: CALLs not answered exactly once`).toEqual([]);
      expect(f.ws.readyState).toBe(WebSocket.OPEN);
      // Whatever was wrong with a frame was the charger's fault and is said so: never "internal error, retry".
      expect([...f.errors.values()].filter((code) => code === 'InternalError')).toEqual([]);
    });
    expect(sent.flat().length).toBeGreaterThan(1500);
    // The mix reached every kind of refusal, not only the happy path.
    const codes = new Set(fuzzers.flatMap((f) => [...f.errors.values()]));
    expect([...codes]).toEqual(expect.arrayContaining(['FormationViolation', 'FormatViolation', 'PropertyConstraintViolation', 'NotImplemented']));
    expect(await snapshot()).toEqual(before);
    const seen = (await t.api('GET', `/api/v1/cpo/chargers/${bystanderId}/diagnostics`)).body.last_seen;
    expect(new Date(seen).getTime()).toBeLessThanOrEqual(bystanderLastHeard);
    // The bystander's own connection still works.
    await bystander.call('StopTransaction', { transactionId, meterStop: 1500, timestamp: new Date().toISOString() });
    expect((await h.sessions(bystanderId))[0]).toMatchObject({ meter_stop_wh: 1500 });
    for (const f of fuzzers) f.ws.close();
    await bystander.close({ force: true });
  }, 120_000);
});

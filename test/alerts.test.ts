import { describe, expect, it } from 'vitest';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { openSse } from './support/sse.js';
import { dbKind } from './support/database.js';
import { eventually } from './support/history.js';
import { statusNotification as status } from './support/ocpp16-payloads.js';
import { sleep } from './support/sleep.js';

// A delay long enough that a few-second blip stays under it on a loaded machine, short enough for a test.
const DELAY_MIN = 8 / 60;

describe(`alert rules (${dbKind})`, { timeout: 120_000 }, () => {
  const bed = ocppTestbed({ DYNAMO_ALERTS_INTERVAL: '1', DYNAMO_EVENTS_POLL_MS: '200' });

  const rule = async (body: Record<string, unknown>) => {
    const r = await bed.t.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'rule', ...body } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const alertsOf = async (ruleId: string) => (await bed.t.api('GET', `/api/v1/cpo/alerts?rule_id=${ruleId}`)).body.alerts as any[];

  it('a charger offline for a few seconds fires nothing; a long outage fires once and resolves once', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const r = await rule({ kind: 'charger_offline', charge_point_id: id, delay_minutes: DELAY_MIN });
    expect(r).toMatchObject({ kind: 'charger_offline', delay_minutes: DELAY_MIN, enabled: true, charge_point_id: id });
    const stream = await openSse(`${bed.svc.url}/api/v1/cpo/events?event=alert.triggered,alert.resolved&charge_point_id=${id}`, bed.t.key);
    try {
      // A blip: gone for about two seconds, back well within the delay.
      let c = await bed.connect(id);
      await c.close({ code: 1000 });
      await sleep(2_000);
      c = await bed.connect(id);
      await sleep(DELAY_MIN * 60_000 + 3_000);
      expect(await alertsOf(r.rule_id)).toEqual([]);

      // An outage: gone for longer than the delay.
      await c.close({ code: 1000 });
      const [open] = await eventually(() => alertsOf(r.rule_id), (a) => a.length === 1, 30_000);
      expect(open).toMatchObject({ status: 'open', charge_point_id: id, site_id: bed.site, connector_id: null, resolved_at: null, rule_name: 'rule' });
      expect(new Date(open.opened_at).getTime() - new Date(open.condition_since).getTime()).toBeGreaterThanOrEqual(DELAY_MIN * 60_000 - 1000);
      await sleep(3_000); // several evaluations while it stays open: still one alert
      c = await bed.connect(id);
      const [closed] = await eventually(() => alertsOf(r.rule_id), (a) => a[0]?.status === 'resolved', 30_000);
      expect(closed.alert_id).toBe(open.alert_id);
      expect(closed.details.resolution).toBe('condition_cleared');

      await stream.waitFor((m) => m.event === 'alert.resolved');
      await sleep(2_500);
      expect(stream.messages.map((m) => [m.event, m.data.data.alert_id])).toEqual([
        ['alert.triggered', open.alert_id],
        ['alert.resolved', open.alert_id],
      ]);
      await c.close({ code: 1000 });
    } finally {
      await stream.close();
    }
  });

  it('a Faulted flicker at boot fires nothing; a lasting fault fires once per charger, or per connector when asked', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const perCharger = await rule({ kind: 'faulted', charge_point_id: id, delay_minutes: DELAY_MIN });
    const perConnector = await rule({ kind: 'faulted', charge_point_id: id, delay_minutes: DELAY_MIN, per_connector: true });
    const c = await bed.connect(id);
    await c.call('StatusNotification', status(1, 'Faulted', 'OtherError'));
    await c.call('StatusNotification', status(1, 'Available'));
    await c.call('StatusNotification', status(2, 'Available'));
    await sleep(DELAY_MIN * 60_000 + 3_000);
    expect(await alertsOf(perCharger.rule_id)).toEqual([]);

    await c.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    await c.call('StatusNotification', status(2, 'Faulted', 'GroundFailure'));
    // Repeated Faulted reports do not restart the clock.
    await sleep(3_000);
    await c.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    const [chargerAlert] = await eventually(() => alertsOf(perCharger.rule_id), (a) => a.length === 1, 30_000);
    expect(chargerAlert).toMatchObject({ status: 'open', connector_id: null, details: { connectors: [1, 2] } });
    const connectorAlerts = await eventually(() => alertsOf(perConnector.rule_id), (a) => a.length === 2, 30_000);
    expect(connectorAlerts.map((a) => a.connector_id).sort()).toEqual([1, 2]);

    await c.call('StatusNotification', status(1, 'Available'));
    await eventually(() => alertsOf(perConnector.rule_id), (a) => a.filter((x) => x.status === 'resolved').length === 1, 30_000);
    // The charger still has a Faulted connector: its charger-level alert stays open.
    expect((await alertsOf(perCharger.rule_id))[0].status).toBe('open');
    await c.call('StatusNotification', status(2, 'Available'));
    await eventually(() => alertsOf(perCharger.rule_id), (a) => a[0]?.status === 'resolved', 30_000);
    expect(await alertsOf(perCharger.rule_id)).toHaveLength(1);
  });

  it('watches an error code; survives a restart without losing or repeating an alert; pausing resolves', async () => {
    // A site of its own, so the rule watches only the chargers of this test.
    const site = await aSite(bed.t.api, { name: 'Alerts after restart' });
    const id = await aCharger(bed.t.api, site);
    const later = await aCharger(bed.t.api, site);
    const r = await rule({ kind: 'error_code', error_code: 'GroundFailure', site_id: site, delay_minutes: 0 });
    const other = await rule({ kind: 'error_code', error_code: 'PowerMeterFailure', site_id: site, delay_minutes: 0 });
    let c = await bed.connect(id);
    await c.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    const [open] = await eventually(() => alertsOf(r.rule_id), (a) => a.length === 1, 30_000);
    expect(open).toMatchObject({ charge_point_id: id, details: { error_code: 'GroundFailure', connectors: [1] } });
    expect(await alertsOf(other.rule_id)).toEqual([]);

    await bed.svc.restart();
    c = await bed.connect(id);
    // A second charger of the site reports the fault only now: its alert can only come from an
    // evaluation after the restart, and that same evaluation of the rule finds the first charger's
    // fault still there and must neither open it again nor resolve it.
    const c2 = await bed.connect(later);
    await c2.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    const after = await eventually(() => alertsOf(r.rule_id), (a) => a.some((x) => x.charge_point_id === later), 30_000);
    expect(after).toHaveLength(2);
    expect(after.find((x) => x.charge_point_id === id)).toMatchObject({ alert_id: open.alert_id, status: 'open', resolved_at: null });
    expect(after.find((x) => x.charge_point_id === later)).toMatchObject({ status: 'open' });

    const paused = await bed.t.api('PATCH', `/api/v1/cpo/alert-rules/${r.rule_id}`, { body: { enabled: false } });
    expect(paused.status).toBe(200);
    expect(paused.body.enabled).toBe(false);
    const resolved = await eventually(() => alertsOf(r.rule_id), (a) => a.length === 2 && a.every((x) => x.status === 'resolved'), 30_000);
    expect(resolved.map((x) => x.details.resolution)).toEqual(['rule_paused', 'rule_paused']);
    await c.call('StatusNotification', status(1, 'Available'));
    await c2.call('StatusNotification', status(1, 'Available'));
  });

  it('validates rules, keeps tenants apart and needs the alert scopes', async () => {
    const bad = async (body: Record<string, unknown>, parameter: string) => {
      const r = await bed.t.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'x', ...body } });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.parameter).toBe(parameter);
    };
    await bad({ kind: 'error_code' }, 'error_code');
    await bad({ kind: 'uptime_below' }, 'threshold_percent');
    await bad({ kind: 'uptime_below', threshold_percent: 97, delay_minutes: 5 }, 'delay_minutes');
    await bad({ kind: 'charger_offline', per_connector: true }, 'per_connector');
    await bad({ kind: 'charger_offline', site_id: bed.site, charge_point_id: 'CP-1' }, 'charge_point_id');
    await bad({ kind: 'charger_offline', delay_minutes: -1 }, 'delay_minutes');
    await bad({ kind: 'nonsense' }, 'kind');

    const defaults = await rule({ kind: 'charger_offline' });
    expect(defaults.delay_minutes).toBe(5);
    expect((await rule({ kind: 'no_heartbeat' })).heartbeat_multiple).toBe(2);
    expect((await rule({ kind: 'uptime_below', threshold_percent: 97 })).window_hours).toBe(24);

    const other = await aTenant(bed.svc.url, 'Other CPO');
    const theirSite = await aSite(other.api);
    const theirCharger = await aCharger(other.api, theirSite);
    const foreignSite = await bed.t.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'x', kind: 'faulted', site_id: theirSite } });
    expect(foreignSite.status).toBe(404);
    const foreignCharger = await bed.t.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'x', kind: 'faulted', charge_point_id: theirCharger } });
    expect(foreignCharger.status).toBe(404);
    expect((await other.api('GET', `/api/v1/cpo/alert-rules/${defaults.rule_id}`)).status).toBe(404);
    expect((await other.api('PATCH', `/api/v1/cpo/alert-rules/${defaults.rule_id}`, { body: { enabled: false } })).status).toBe(404);
    expect((await other.api('DELETE', `/api/v1/cpo/alert-rules/${defaults.rule_id}`)).status).toBe(404);
    expect((await other.api('GET', '/api/v1/cpo/alert-rules')).body.rules).toEqual([]);

    const readOnly = await aTenant(bed.svc.url, 'Reader', ['read:alerts']);
    expect((await readOnly.api('GET', '/api/v1/cpo/alerts')).status).toBe(200);
    const denied = await readOnly.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'x', kind: 'faulted' } });
    expect(denied.status).toBe(403);
    expect((await (await aTenant(bed.svc.url, 'None', ['read:charge_points'])).api('GET', '/api/v1/cpo/alerts')).status).toBe(403);

    const patched = await bed.t.api('PATCH', `/api/v1/cpo/alert-rules/${defaults.rule_id}`, { body: { delay_minutes: 10, name: 'offline 10 min' } });
    expect(patched.body).toMatchObject({ delay_minutes: 10, name: 'offline 10 min', kind: 'charger_offline' });
    expect((await bed.t.api('DELETE', `/api/v1/cpo/alert-rules/${defaults.rule_id}`)).status).toBe(204);
    expect((await bed.t.api('GET', `/api/v1/cpo/alert-rules/${defaults.rule_id}`)).status).toBe(404);
    const badPeriod = await bed.t.api('GET', '/api/v1/cpo/alerts?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z');
    expect(badPeriod.status).toBe(400);
  });
});

// A separate process that drives N OCPP 1.6 chargers over real sockets and
// reports what it measured as one JSON line. Used by bench/ingest.ts.
import WebSocket from 'ws';
import { benchArgs } from './args.js';

interface Options {
  url: string;
  chargers: number;
  prefix: string;
  connectRate: number;
  maxSeconds: number;
  halfSeconds: number;
  halfRate?: number;
  /** 1.6, 2.0.1, 2.1, or mixed (a third each). */
  ocpp: string;
}

function parseArgs(): Options {
  const a = benchArgs();
  return {
    url: a.get('url')!,
    chargers: Number(a.get('chargers') ?? 1000),
    prefix: a.get('prefix') ?? 'BENCH-',
    connectRate: Number(a.get('connect-rate') ?? 2000),
    maxSeconds: Number(a.get('max-seconds') ?? 15),
    halfSeconds: Number(a.get('half-seconds') ?? 15),
    halfRate: a.has('half-rate') ? Number(a.get('half-rate')) : undefined,
    ocpp: a.get('ocpp') ?? '1.6',
  };
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

class SimCharger {
  ws?: WebSocket;
  private seq = 0;
  private pending?: { id: string; sentAt: number; resolve: (v: unknown) => void; reject: (e: Error) => void };
  private step = 0;
  private txId: number | null = null;
  private energy = 0;
  busy = false;

  private txSeq = 0;
  private txName = '';

  constructor(
    readonly id: string,
    private readonly url: string,
    readonly protocol: string,
  ) {}

  get v2(): boolean {
    return this.protocol !== 'ocpp1.6';
  }

  boot(latencies: number[]): Promise<unknown> {
    return this.v2
      ? this.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Bench', model: 'Sim' } }, latencies)
      : this.call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Sim' }, latencies);
  }

  status(status: string, latencies: number[], errorCode = 'NoError'): Promise<unknown> {
    const timestamp = new Date().toISOString();
    return this.v2
      ? this.call('StatusNotification', { timestamp, connectorStatus: status === 'Charging' ? 'Occupied' : status, evseId: 1, connectorId: 1 }, latencies)
      : this.call('StatusNotification', { connectorId: 1, errorCode, status, timestamp }, latencies);
  }

  /** The OCPP 2.x life of a charger: the same steps as next() speaks for 1.6. */
  private async nextV2(s: number, latencies: number[]): Promise<number> {
    const timestamp = new Date().toISOString();
    const meter = () => [{ timestamp, sampledValue: [{ value: Math.round(this.energy), measurand: 'Energy.Active.Import.Register' }, { value: 11000, measurand: 'Power.Active.Import' }] }];
    const tx = (eventType: string, extra: object = {}) =>
      this.call('TransactionEvent', { eventType, timestamp, triggerReason: 'MeterValuePeriodic', seqNo: this.txSeq++, transactionInfo: { transactionId: this.txName }, ...extra }, latencies);
    if (s === 0) await this.call('Heartbeat', {}, latencies);
    else if (s === 1) await this.call('Authorize', { idToken: { idToken: 'BENCHTAG', type: 'ISO14443' } }, latencies);
    else if (s === 2) {
      this.txName = `${this.id}-${Date.now()}-${this.step}`;
      this.txSeq = 0;
      await tx('Started', { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'BENCHTAG', type: 'ISO14443' }, meterValue: meter() });
    } else if (s === 3) await this.status('Charging', latencies);
    else if (s >= 4 && s <= 13) {
      this.energy += 30;
      await tx('Updated', { transactionInfo: { transactionId: this.txName, chargingState: 'Charging' }, meterValue: meter() });
    } else if (s === 14) await tx('Ended', { transactionInfo: { transactionId: this.txName, stoppedReason: 'EVDisconnected' }, meterValue: meter() });
    else if (s === 15) await this.status('Available', latencies);
    else if (s === 16 && Math.random() < 0.05) {
      const ev = (actualValue: string) => ({ generatedAt: timestamp, seqNo: 0, eventData: [{ eventId: 1, timestamp, trigger: 'Alerting', actualValue, techCode: 'GroundFailure', eventNotificationType: 'HardWiredNotification', component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'Problem' } }] });
      await this.call('NotifyEvent', ev('true'), latencies);
      await this.call('NotifyEvent', ev('false'), latencies);
      return 2;
    } else if (s === 17 && Math.random() < 0.01) {
      this.ws!.terminate();
      await this.connect();
      await this.boot(latencies);
    } else await this.call('Heartbeat', {}, latencies);
    return 1;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url}/${this.id}`, [this.protocol], { perMessageDeflate: false });
      this.ws = ws;
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
      ws.on('message', (data) => {
        const f = JSON.parse(String(data));
        if (this.pending && f[1] === this.pending.id) {
          const p = this.pending;
          this.pending = undefined;
          if (f[0] === 3) p.resolve(f[2]);
          else p.reject(new Error(`${f[2]}: ${f[3]}`));
        }
      });
      ws.on('close', () => {
        this.pending?.reject(new Error('closed'));
        this.pending = undefined;
      });
    });
  }

  call(action: string, payload: unknown, latencies: number[]): Promise<any> {
    const id = String(++this.seq);
    return new Promise((resolve, reject) => {
      const sentAt = performance.now();
      this.pending = {
        id,
        sentAt,
        resolve: (v) => {
          latencies.push(performance.now() - sentAt);
          resolve(v);
        },
        reject,
      };
      this.ws!.send(JSON.stringify([2, id, action, payload]));
    });
  }

  /** The next message of a realistic charger life: status, heartbeats, sessions with meter values, faults, reconnects. */
  async next(latencies: number[]): Promise<number> {
    const now = new Date().toISOString();
    const s = this.step++ % 20;
    if (this.v2) return this.nextV2(s, latencies);
    if (s === 0) {
      await this.call('Heartbeat', {}, latencies);
    } else if (s === 1) {
      await this.call('Authorize', { idTag: 'BENCHTAG' }, latencies);
    } else if (s === 2) {
      const r = await this.call('StartTransaction', { connectorId: 1, idTag: 'BENCHTAG', meterStart: Math.round(this.energy), timestamp: now }, latencies);
      this.txId = r.transactionId;
    } else if (s === 3) {
      await this.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now }, latencies);
    } else if (s >= 4 && s <= 13) {
      this.energy += 30; // 11 kW for 10 s
      await this.call('MeterValues', { connectorId: 1, transactionId: this.txId ?? undefined, meterValue: [{ timestamp: now, sampledValue: [{ value: String(Math.round(this.energy)), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: '11000', measurand: 'Power.Active.Import', unit: 'W' }] }] }, latencies);
    } else if (s === 14) {
      await this.call('StopTransaction', { transactionId: this.txId ?? 0, meterStop: Math.round(this.energy), timestamp: now, reason: 'EVDisconnected' }, latencies);
    } else if (s === 15) {
      await this.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now }, latencies);
    } else if (s === 16 && Math.random() < 0.05) {
      await this.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now }, latencies);
      await this.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() }, latencies);
      return 2;
    } else if (s === 17 && Math.random() < 0.01) {
      // Reconnect: drop the socket, come back, boot again.
      this.ws!.terminate();
      await this.connect();
      await this.boot(latencies);
    } else {
      await this.call('Heartbeat', {}, latencies);
    }
    return 1;
  }
}

async function main() {
  const o = parseArgs();
  const versions = o.ocpp === 'mixed' ? ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] : [`ocpp${o.ocpp}`];
  const chargers = Array.from({ length: o.chargers }, (_, i) => new SimCharger(`${o.prefix}${i}`, o.url, versions[i % versions.length]!));
  const bootLat: number[] = [];

  // Phase 1: connect and boot every charger at a bounded ramp rate.
  const t0 = performance.now();
  let failed = 0;
  const batch = Math.max(1, Math.round(o.connectRate / 10));
  for (let i = 0; i < chargers.length; i += batch) {
    const slice = chargers.slice(i, i + batch);
    const tick = performance.now();
    await Promise.all(
      slice.map(async (c) => {
        try {
          await c.connect();
          await c.boot(bootLat);
          await c.status('Available', bootLat);
        } catch {
          failed++;
        }
      }),
    );
    const wait = 100 - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  const held = chargers.filter((c) => c.ws?.readyState === WebSocket.OPEN).length;
  process.stdout.write(JSON.stringify({ phase: 'connected', held, failed, connectSeconds }) + '\n');

  // Phase 2: closed loop, every charger sends its next message as soon as the last is answered.
  const maxLat: number[] = [];
  let maxMessages = 0;
  let errors = 0;
  const until = performance.now() + o.maxSeconds * 1000;
  const tMax = performance.now();
  await Promise.all(
    chargers.map(async (c) => {
      while (performance.now() < until) {
        try {
          const n = await c.next(maxLat);
          maxMessages += n;
        } catch {
          errors++;
          if (c.ws?.readyState !== WebSocket.OPEN) await c.connect().catch(() => undefined);
        }
      }
    }),
  );
  const maxRate = maxMessages / ((performance.now() - tMax) / 1000);
  maxLat.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ phase: 'max', messages: maxMessages, rate: maxRate, p50: percentile(maxLat, 50), p99: percentile(maxLat, 99), errors }) + '\n');

  // Phase 3 and 4: open loop at a fixed rate (default: half the measured maximum); latency at that
  // load, first alone, then while the orchestrator runs a dashboard query loop against the server.
  const rate = o.halfRate ?? maxRate / 2;
  for (const name of ['half', 'half-dashboard']) {
    const lat: number[] = [];
    let sent = 0;
    let skipped = 0;
    let errs = 0;
    const start = performance.now();
    const end = start + o.halfSeconds * 1000;
    let cursor = 0;
    const inflight = new Set<Promise<void>>();
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (sent + skipped < due) {
        const c = chargers[cursor++ % chargers.length]!;
        if (c.busy || c.ws?.readyState !== WebSocket.OPEN) {
          skipped++;
          continue;
        }
        c.busy = true;
        sent++;
        const p: Promise<void> = c.next(lat).then(
          () => void (c.busy = false),
          () => void ((c.busy = false), errs++),
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
    lat.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ phase: name, target: rate, achieved: lat.length / o.halfSeconds, p50: percentile(lat, 50), p99: percentile(lat, 99), skipped, errors: errs }) + '\n');
  }

  // Phase 5, connection storm: every socket drops at once, then every charger reconnects and boots at
  // once (no ramp): the time until all are back and answered.
  for (const c of chargers) c.ws?.terminate();
  await new Promise((r) => setTimeout(r, 500));
  const stormLat: number[] = [];
  const tStorm = performance.now();
  let stormFailed = 0;
  await Promise.all(
    chargers.map(async (c) => {
      try {
        await c.connect();
        await c.boot(stormLat);
      } catch {
        stormFailed++;
      }
    }),
  );
  const stormSeconds = (performance.now() - tStorm) / 1000;
  process.stdout.write(JSON.stringify({ phase: 'storm', seconds: stormSeconds, reconnected: chargers.length - stormFailed, failed: stormFailed }) + '\n');

  for (const c of chargers) c.ws?.terminate();
  process.exit(0);
}

void main();

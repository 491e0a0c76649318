// A simulated charger for the load generators (bench/load-generator.ts, bench/flood-generator.ts):
// connects over a real socket, sends one CALL at a time and measures each answer's latency.
import WebSocket from 'ws';

const CALL_TIMEOUT_MS = 30_000;

export const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

/** One simulated charger over a real socket: one CALL at a time, as OCPP-J asks. */
export class SimCharger {
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
      // As a charger does (OCPP-J message timeout): a CALL left unanswered fails, and the bench counts it
      // as an error instead of waiting for it forever.
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        reject(new Error(`${action}: no answer within ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending = {
        id,
        sentAt,
        resolve: (v) => {
          clearTimeout(timer);
          latencies.push(performance.now() - sentAt);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.ws!.send(JSON.stringify([2, id, action, payload]));
    });
  }

  /** Steps in a charger's cycle (a session and its meter values, status changes, heartbeats). */
  static readonly CYCLE = 20;

  /** The next message of a realistic charger life: status, heartbeats, sessions with meter values, faults, reconnects. */
  async next(latencies: number[]): Promise<number> {
    const now = new Date().toISOString();
    const s = this.step++ % SimCharger.CYCLE;
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

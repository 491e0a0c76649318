import { RPCClient } from 'ocpp-rpc';
import type { Random } from './random.js';
import { dialectFor, type Dialect } from './dialects.js';
import { answerCsmsRequests, type ChargerHost } from './csms-requests.js';

export type SimProtocol = 'ocpp1.6' | 'ocpp2.0.1' | 'ocpp2.1';

export interface ChargerBehaviour {
  /** Time runs this many times faster than real time (intervals, sessions, outages shrink). */
  speed: number;
  sessionsPerDay: number;
  faultsPerDay: number;
  dropsPerDay: number;
  connectors: number;
}

export interface VirtualChargerOptions extends ChargerBehaviour {
  url: string;
  identity: string;
  protocol: SimProtocol;
  password?: string;
  random: Random;
  /** Every message the charger sends, as sent (for logs and the determinism test). */
  onMessage?: (identity: string, action: string, payload: Record<string, unknown>) => void;
  /** Real milliseconds between the steps of a long operation (reboot, firmware, upload); default 20 simulated seconds. */
  stepMs?: number;
}

export interface ChargerStats {
  messages: number;
  sessions: number;
  faults: number;
  drops: number;
  errors: number;
}

/** The simulated time step: a real charger samples its meter every 10 s. */
const TICK_SECONDS = 10;
/** Fault codes with the kind of info text chargers send with them (at most 50 characters, OCPP 1.6). */
const FAULTS: [code: string, info: string[]][] = [
  ['GroundFailure', ['RCD tripped: residual current 30 mA AC', 'DC leakage 8 mA above limit', 'Insulation resistance 80 kOhm below limit']],
  ['ConnectorLockFailure', ['Lock motor did not reach locked position', 'Cable lock feedback mismatch', 'Unlock failed after session end']],
  ['HighTemperature', ['Power module temperature 88 C, output stopped', 'Cable temperature 74 C, charging suspended']],
  ['OverCurrentFailure', ['Overcurrent on L2: 36 A for 5 s, limit 32 A', 'Overcurrent on L1: 41 A, contactor opened']],
  ['PowerMeterFailure', ['Energy meter not responding on Modbus', 'Meter CRC error, readings discarded']],
];

interface Session {
  connectorId: number;
  transactionId: string;
  ticksLeft: number;
  powerW: number;
  energyWh: number;
}

/**
 * One virtual charger speaking real OCPP-J over a real WebSocket. Its life is
 * decided tick by tick from its own seeded random stream (the same draws in the
 * same order every run, whatever the server answers), so `--seed` replays the
 * same message sequence. While "offline" it keeps living and queues what it
 * would have sent, then replays it with the original timestamps on reconnect,
 * as real chargers do.
 */
export class VirtualCharger {
  readonly stats: ChargerStats = { messages: 0, sessions: 0, faults: 0, drops: 0, errors: 0 };
  private client: RPCClient | undefined;
  private readonly dialect: Dialect;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private online = false;
  private heartbeatTicks = Math.round(300 / TICK_SECONDS);
  private tick = 0;
  private session: Session | undefined;
  private faultTicksLeft = 0;
  private faultCode = '';
  private faultInfo = '';
  private offlineTicksLeft = 0;
  private starts = 0;
  private readonly queue: { action: string; payload: Record<string, unknown> }[] = [];
  private meterWh: number;
  /** Connectors made Inoperative by ChangeAvailability (0: the whole charger). */
  private readonly unavailable = new Set<number>();

  constructor(private readonly o: VirtualChargerOptions) {
    this.dialect = dialectFor(o.protocol);
    this.meterWh = Math.round(o.random.between(0, 5_000_000));
  }

  get identity(): string {
    return this.o.identity;
  }

  get connected(): boolean {
    return this.online;
  }

  get charging(): boolean {
    return this.session !== undefined;
  }

  /** The live ocpp-rpc client (tests answer a request differently by handling it again). */
  get rpc(): RPCClient | undefined {
    return this.client;
  }

  /** The charger's own transaction id of its running session, if any. */
  get transactionId(): string | undefined {
    return this.session?.transactionId;
  }

  /** The status a connector reports: Charging, Faulted, Unavailable or Available. */
  connectorStatus(c: number): string {
    if (this.session?.connectorId === c) return 'Charging';
    if (this.faultTicksLeft > 0) return 'Faulted';
    if (this.unavailable.has(0) || this.unavailable.has(c)) return 'Unavailable';
    return 'Available';
  }

  async start(): Promise<void> {
    await this.connect();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.online = false;
    await this.client?.close({ force: true }).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.step().catch(() => undefined).finally(() => this.schedule());
    }, (TICK_SECONDS * 1000) / this.o.speed);
  }

  private async connect(): Promise<void> {
    const client = new RPCClient({
      endpoint: this.o.url,
      identity: this.o.identity,
      password: this.o.password,
      protocols: [this.o.protocol],
      reconnect: false,
      strictMode: false,
      callTimeoutMs: 30_000,
      pingIntervalMs: 0,
    } as never);
    this.registerCsmsRequests(client);
    client.on('close', () => {
      if (this.client === client) this.online = false;
    });
    await client.connect();
    this.client = client;
    this.online = true;
    const boot = (await this.call(...this.dialect.boot())) as { interval?: number; status?: string };
    if (boot?.interval) this.heartbeatTicks = Math.max(1, Math.round(boot.interval / TICK_SECONDS));
    for (let c = 1; c <= this.o.connectors; c++) await this.send(...this.dialect.status(c, this.connectorStatus(c), new Date()));
  }

  /** One simulated 10-second step; every random draw happens here, in a fixed order. */
  private async step(): Promise<void> {
    const r = this.o.random;
    const perTick = TICK_SECONDS / 86_400;
    const startDraw = r.next();
    const faultDraw = r.next();
    const dropDraw = r.next();
    const durationDraw = r.next();
    const pickDraw = r.next();
    this.tick++;

    if (this.offlineTicksLeft > 0 && --this.offlineTicksLeft === 0) await this.reconnect();

    if (this.tick % this.heartbeatTicks === 0 && this.online) await this.send(...this.dialect.heartbeat());

    if (this.faultTicksLeft > 0) {
      if (--this.faultTicksLeft === 0) for (const m of this.dialect.fault(1, this.faultCode, false, new Date())) await this.send(...m);
    } else if (faultDraw < this.o.faultsPerDay * perTick) {
      const [code, infos] = FAULTS[Math.floor(pickDraw * FAULTS.length)]!;
      this.faultCode = code;
      this.faultInfo = infos[Math.floor(durationDraw * infos.length)]!;
      this.faultTicksLeft = 6 + Math.floor(durationDraw * 30); // 1 to 6 minutes
      this.stats.faults++;
      if (this.session) await this.stopSession('Other');
      for (const m of this.dialect.fault(1, this.faultCode, true, new Date(), this.faultInfo)) await this.send(...m);
    }

    if (this.session) {
      const s = this.session;
      s.energyWh += (s.powerW * TICK_SECONDS) / 3600;
      this.meterWh += (s.powerW * TICK_SECONDS) / 3600;
      // A plausible curve: full power, tapering over the last tenth of the session.
      if (s.ticksLeft < 30) s.powerW = Math.max(1_500, s.powerW * 0.95);
      await this.send(...this.dialect.meter(s.connectorId, s.transactionId, Math.round(this.meterWh), s.powerW, new Date()));
      if (--s.ticksLeft <= 0) await this.stopSession('EVDisconnected');
    } else if (this.faultTicksLeft === 0 && startDraw < this.o.sessionsPerDay * perTick && (this.online || this.dialect.offlineSessions)) {
      const connectorId = 1 + Math.floor(pickDraw * this.o.connectors);
      if (this.connectorStatus(connectorId) === 'Available') await this.startSession(connectorId, durationDraw);
    }

    if (this.online && this.offlineTicksLeft === 0 && dropDraw < this.o.dropsPerDay * perTick) {
      this.stats.drops++;
      this.offlineTicksLeft = 3 + Math.floor(durationDraw * 9); // 30 s to 2 min
      this.online = false;
      await this.client?.close({ force: true }).catch(() => undefined);
    }
  }

  private async startSession(connectorId: number, durationDraw: number, remote?: { idTag: string; remoteStartId?: number }): Promise<void> {
    const at = new Date();
    const powerW = [7_400, 11_000, 22_000, 50_000, 150_000][Math.floor(durationDraw * 5)]!;
    const ticks = Math.round((20 + durationDraw * 70) * 6); // 20 to 90 minutes
    const local = `${this.o.identity}-${this.tick}-${++this.starts}`;
    // Claimed before the first await, so a remote start cannot race a second one onto the charger.
    const session: Session = { connectorId, transactionId: local, ticksLeft: ticks, powerW, energyWh: 0 };
    this.session = session;
    await this.send(...this.dialect.status(connectorId, 'Preparing', at));
    const answer = (await this.send(...this.dialect.startSession(connectorId, local, Math.round(this.meterWh), at, remote))) as { transactionId?: number } | undefined;
    session.transactionId = String(answer?.transactionId ?? local);
    this.stats.sessions++;
    await this.send(...this.dialect.status(connectorId, 'Charging', at));
  }

  private async stopSession(reason: string): Promise<void> {
    const s = this.session!;
    this.session = undefined;
    const at = new Date();
    await this.send(...this.dialect.stopSession(s.connectorId, s.transactionId, Math.round(this.meterWh), reason, at));
    await this.send(...this.dialect.status(s.connectorId, 'Available', at));
  }

  private async reconnect(): Promise<void> {
    try {
      await this.connect();
    } catch {
      this.offlineTicksLeft = 3; // try again in 30 simulated seconds
      return;
    }
    // Replay what was queued while offline, in order, with its original timestamps.
    while (this.queue.length > 0 && this.online) {
      const m = this.queue.shift()!;
      await this.call(m.action, { ...m.payload, ...this.dialect.offlineMark(m.action) });
    }
  }

  /** Sends now when online, else queues (messages a charger must not lose). */
  private async send(action: string, payload: Record<string, unknown>): Promise<unknown> {
    if (!this.online) {
      if (action !== 'Heartbeat') this.queue.push({ action, payload });
      return undefined;
    }
    return this.call(action, payload);
  }

  private async call(action: string, payload: Record<string, unknown>): Promise<unknown> {
    this.o.onMessage?.(this.o.identity, action, payload);
    this.stats.messages++;
    try {
      return await this.client!.call(action, payload);
    } catch (err) {
      // Calls cut short by our own stop are not the CSMS's errors.
      if (!this.stopped) this.stats.errors++;
      throw err;
    }
  }

  /** Answers to everything a CSMS asks, as a real charger of this generation would (csms-requests.ts). */
  private registerCsmsRequests(client: RPCClient): void {
    answerCsmsRequests(client, this.host());
  }

  private host(): ChargerHost {
    const self = this;
    return {
      protocol: this.o.protocol,
      connectors: this.o.connectors,
      stepMs: this.o.stepMs ?? (20_000 / this.o.speed),
      send: (action, payload) => this.send(action, payload),
      statusCall: (c, status) => this.dialect.status(c, status, new Date()),
      connectorStatus: (c) => this.connectorStatus(c),
      reboot: (ms) => {
        setTimeout(() => {
          if (this.stopped) return;
          this.online = false;
          void this.client?.close({ force: true }).catch(() => undefined).then(() => setTimeout(() => void this.reconnect(), ms));
        }, 50);
      },
      remoteStart: (c, idTag, remoteStartId) => {
        if (this.session || this.connectorStatus(c) !== 'Available') return false;
        void this.startSession(c, 0.5, { idTag, remoteStartId }).catch(() => undefined);
        return true;
      },
      remoteStop: (transactionId) => {
        if (this.session?.transactionId !== transactionId) return false;
        setTimeout(() => void this.stopSession('Remote').catch(() => undefined), 0);
        return true;
      },
      sessionOn: (c) => (this.session?.connectorId === c ? this.session.transactionId : undefined),
      setAvailable: (c, available) => {
        if (available) {
          if (c === 0) this.unavailable.clear();
          else this.unavailable.delete(c);
        } else this.unavailable.add(c);
      },
      heartbeatIntervalSec: () => self.heartbeatTicks * TICK_SECONDS,
      setHeartbeatIntervalSec: (sec) => {
        self.heartbeatTicks = Math.max(1, Math.round(sec / TICK_SECONDS));
      },
    };
  }
}

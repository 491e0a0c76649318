import { Random } from './random.js';
import { VirtualCharger, type ChargerBehaviour, type SimProtocol } from './virtual-charger.js';

export interface FleetOptions extends ChargerBehaviour {
  url: string;
  chargers: number;
  /** One version, or 'mixed' for a third each. */
  ocpp: '1.6' | '2.0.1' | '2.1' | 'mixed';
  /** Identities are `${prefix}${n}`, n from 1, zero-padded to 5 digits. */
  prefix: string;
  password?: string;
  seed: number;
  /** New connections per second while ramping up. */
  rampPerSecond: number;
  onMessage?: (identity: string, action: string, payload: Record<string, unknown>) => void;
}

export interface FleetCounters {
  chargers: number;
  connected: number;
  charging: number;
  messages: number;
  sessions: number;
  faults: number;
  drops: number;
  errors: number;
}

const VERSIONS: Record<string, SimProtocol[]> = {
  '1.6': ['ocpp1.6'],
  '2.0.1': ['ocpp2.0.1'],
  '2.1': ['ocpp2.1'],
  mixed: ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'],
};

/** A fleet of virtual chargers, started at a bounded rate, each on its own seeded random stream. */
export class SimulatedFleet {
  readonly chargers: VirtualCharger[];
  private stopping = false;

  constructor(private readonly o: FleetOptions) {
    const root = new Random(o.seed);
    const versions = VERSIONS[o.ocpp]!;
    this.chargers = Array.from({ length: o.chargers }, (_, i) =>
      new VirtualCharger({
        ...o,
        identity: `${o.prefix}${String(i + 1).padStart(5, '0')}`,
        protocol: versions[i % versions.length]!,
        random: root.fork(i),
      }),
    );
  }

  /** Connects every charger, `rampPerSecond` at a time; failures are counted, not fatal. */
  async start(): Promise<void> {
    const batch = Math.max(1, Math.round(this.o.rampPerSecond / 10));
    for (let i = 0; i < this.chargers.length && !this.stopping; i += batch) {
      const started = Date.now();
      await Promise.all(this.chargers.slice(i, i + batch).map((c) => c.start().catch(() => void c.stats.errors++)));
      const wait = 100 - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.chargers.map((c) => c.stop()));
  }

  counters(): FleetCounters {
    const c: FleetCounters = { chargers: this.chargers.length, connected: 0, charging: 0, messages: 0, sessions: 0, faults: 0, drops: 0, errors: 0 };
    for (const ch of this.chargers) {
      if (ch.connected) c.connected++;
      if (ch.charging) c.charging++;
      c.messages += ch.stats.messages;
      c.sessions += ch.stats.sessions;
      c.faults += ch.stats.faults;
      c.drops += ch.stats.drops;
      c.errors += ch.stats.errors;
    }
    return c;
  }
}

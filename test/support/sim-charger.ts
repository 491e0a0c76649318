import { Random } from '../../src/sim/random.js';
import { VirtualCharger, type SimProtocol, type VirtualChargerOptions } from '../../src/sim/virtual-charger.js';

export interface SimCharger {
  charger: VirtualCharger;
  /** The CSMS's CALLs this charger received, in order (across reconnects). */
  received: { action: string; payload: any; at: number }[];
  /** Answers an action differently from the simulator (on the current connection). */
  answer(action: string, handler: (params: any) => unknown): void;
  stop(): Promise<void>;
}

/**
 * A registered charger played by the simulator (src/sim): it boots, reports its connectors and
 * answers every command as a real charger of its version would; no random sessions or faults.
 */
export async function aSimCharger(wsUrl: string, identity: string, protocol: SimProtocol, o: Partial<VirtualChargerOptions> = {}): Promise<SimCharger> {
  const received: SimCharger['received'] = [];
  const overrides = new Map<string, (params: any) => unknown>();
  const charger = new VirtualCharger({
    url: wsUrl, identity, protocol, random: new Random(7), speed: 1, sessionsPerDay: 0, faultsPerDay: 0, dropsPerDay: 0, connectors: 2, stepMs: 100, ...o,
  });
  let watched: unknown;
  const watch = () => {
    const rpc = charger.rpc;
    if (!rpc || rpc === watched) return;
    watched = rpc;
    rpc.on('call', (e: { outbound: boolean; payload: unknown[] }) => {
      if (!e.outbound) received.push({ action: e.payload[2] as string, payload: e.payload[3], at: Date.now() });
    });
    for (const [action, handler] of overrides) rpc.handle(action, ({ params }: { params?: unknown }) => handler(params) as never);
  };
  await charger.start();
  watch();
  // A reset reconnects with a new client: follow it.
  const timer = setInterval(watch, 20);
  return {
    charger,
    received,
    answer(action, handler) {
      overrides.set(action, handler);
      charger.rpc?.handle(action, ({ params }: { params?: unknown }) => handler(params) as never);
    },
    async stop() {
      clearInterval(timer);
      await charger.stop();
    },
  };
}

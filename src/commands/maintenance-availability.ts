import type { Logger } from 'pino';
import { claimMaintenanceCommand, maintenanceDueOffline, maintenanceDueOnline } from '../store/maintenance.js';
import type { Db } from '../store/db.js';
import type { CommandService } from './service.js';

/** Availability commands wait this long for the charger: a window's start is not an interactive request. */
const TIMEOUT_MS = 30_000;

/**
 * Maintenance windows with take_offline (docs/commands.md): when a window starts the charger
 * gets set_unavailable, when it is completed set_available; each command is linked to the
 * window once (claimed in the same transaction that records the command), so with several
 * nodes, or a poll racing an API call, each is sent once. Windows are looked at when the API
 * changes one and on a timer (for windows that start later).
 */
export class MaintenanceAvailability {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly commands: CommandService,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.changed(), this.pollMs);
    this.timer.unref();
    void this.changed();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Something may be due: look now (coalesced with a look in progress). Resolves once the
   * commands due are recorded and linked to their windows (not when the chargers answer).
   */
  changed(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.settled();
    }
    this.running = this.sweep()
      .catch((err) => this.log.warn({ err }, 'maintenance availability sweep failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.changed();
        }
      });
    return this.settled();
  }

  /** Resolves once every look asked for so far has run (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async sweep(): Promise<void> {
    for (const m of await maintenanceDueOffline(this.db, new Date())) {
      await this.commands.sendInBackground(
        { tenantId: m.tenant_id, chargePointId: m.charge_point_id, command: 'set_unavailable', parameters: {}, timeoutMs: TIMEOUT_MS, requestedBy: `maintenance:${m.event_id}` },
        (commandId, tx) => claimMaintenanceCommand(tx, m.event_id, 'offline', commandId),
      );
    }
    for (const m of await maintenanceDueOnline(this.db)) {
      await this.commands.sendInBackground(
        { tenantId: m.tenant_id, chargePointId: m.charge_point_id, command: 'set_available', parameters: {}, timeoutMs: TIMEOUT_MS, requestedBy: `maintenance:${m.event_id}` },
        (commandId, tx) => claimMaintenanceCommand(tx, m.event_id, 'online', commandId),
      );
    }
  }
}

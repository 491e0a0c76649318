import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import { insertMessageLog, maintainMessageLog, MessageLogPartitions, type MessageLogInsert } from '../store/message-log.js';

export interface MessageLogWriterOptions {
  nodeId: string;
  /** Entries held in memory at most; beyond, new ones are shed (counted, warned). */
  maxBuffered: number;
  /** Rows per insert. */
  maxBatch: number;
  /** How long an entry may wait for a batch to fill. */
  flushIntervalMs: number;
  retentionDays: number;
  /** How often partitions are made ahead and dropped past retention. */
  maintenanceIntervalMs: number;
  /**
   * Awaited before each batch, when the log must take turns with other writers of the same
   * database (PGlite: src/app.ts); frames that come meanwhile wait in the buffer or are shed.
   */
  waitTurn?: () => Promise<void>;
}

const WARN_EVERY_MS = 10_000;

/**
 * The raw OCPP message log's own writer (docs/api.md, message log), apart from ingest: push()
 * only appends to a bounded buffer, so capturing a frame never delays an OCPP answer; batches go
 * to the database one at a time. When the buffer is full (the database is slower than the
 * frames), new entries are shed: counted in dynamo_message_log_shed_total and warned about,
 * never queued without bound. A batch the database refuses is shed the same way.
 */
export class MessageLogWriter<F> {
  private buffer: F[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastWarning = 0;
  private shedSinceWarning = 0;
  private readonly partitions = new MessageLogPartitions();
  private readonly shed: Counter;
  private readonly written: Counter;

  constructor(
    private readonly db: Db,
    private readonly toRow: (frame: F) => MessageLogInsert,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: MessageLogWriterOptions,
  ) {
    this.shed = new Counter({ name: 'dynamo_message_log_shed_total', help: 'OCPP frames not written to the message log (buffer full or batch refused)', labelNames: ['reason'], registers: [metrics] });
    this.written = new Counter({ name: 'dynamo_message_log_written_total', help: 'OCPP frames handed to the message log insert', registers: [metrics] });
    const self = this;
    new Gauge({ name: 'dynamo_message_log_buffered', help: 'OCPP frames waiting for the message log writer', registers: [metrics], collect() { this.set(self.buffer.length); } });
  }

  async start(): Promise<void> {
    await this.maintain();
    this.maintenanceTimer = setInterval(() => void this.maintain(), this.opts.maintenanceIntervalMs);
    this.maintenanceTimer.unref();
  }

  push(frame: F): void {
    if (this.closed) return;
    if (this.buffer.length >= this.opts.maxBuffered) return this.shedding('buffer_full', 1);
    this.buffer.push(frame);
    if (this.buffer.length >= this.opts.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.flushIntervalMs);
  }

  /** Writes everything buffered so far. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearInterval(this.maintenanceTimer);
    clearTimeout(this.timer);
  }

  /** Creates partitions ahead and drops those past retention; returns the dropped names. */
  async maintain(now = new Date()): Promise<string[]> {
    try {
      const dropped = await maintainMessageLog(this.db, this.partitions, this.opts.retentionDays, now);
      if (dropped.length) this.log.info({ partitions: dropped }, 'message log: partitions past retention dropped');
      return dropped;
    } catch (err) {
      this.log.warn({ err }, 'message log maintenance failed');
      return [];
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0) this.timer ??= setTimeout(() => this.kick(), this.buffer.length >= this.opts.maxBatch ? 0 : this.opts.flushIntervalMs);
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      await this.opts.waitTurn?.();
      const batch = this.buffer.splice(0, this.opts.maxBatch);
      let rows: MessageLogInsert[];
      try {
        rows = batch.map(this.toRow);
      } catch (err) {
        this.log.error({ err }, 'message log: frames could not be prepared');
        this.shedding('prepare_failed', batch.length);
        continue;
      }
      try {
        await this.insert(rows);
        this.written.inc(rows.length);
      } catch (err) {
        this.log.warn({ err, frames: rows.length }, 'message log: batch not written');
        this.shedding('write_failed', rows.length);
      }
    }
  }

  private async insert(rows: MessageLogInsert[]): Promise<void> {
    try {
      await insertMessageLog(this.db, this.partitions, this.opts.nodeId, rows);
    } catch (err) {
      // 23514: no partition for a row: ours was dropped or never made here (another node's
      // retention, a clock change). Ask again once.
      if ((err as { code?: string }).code !== '23514') throw err;
      this.partitions.forget();
      await insertMessageLog(this.db, this.partitions, this.opts.nodeId, rows);
    }
  }

  private shedding(reason: string, n: number): void {
    this.shed.inc({ reason }, n);
    this.shedSinceWarning += n;
    const now = Date.now();
    if (now - this.lastWarning >= WARN_EVERY_MS) {
      this.log.warn({ shed: this.shedSinceWarning, reason, buffered: this.buffer.length }, 'message log overloaded: frames shed (the OCPP history is unaffected)');
      this.lastWarning = now;
      this.shedSinceWarning = 0;
    }
  }
}

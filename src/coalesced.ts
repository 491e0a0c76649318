/**
 * A task run on demand and never twice at once: asked again while it runs, it runs once more
 * afterwards (however many times it was asked meanwhile). For readers that "look again" when told
 * something may be new: many hints cost at most one extra run.
 */
export class Coalesced {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Callers of settled() waiting for a run that has not begun yet. */
  private waiters: (() => void)[] = [];

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const waiters = this.waiters.splice(0);
    this.running = this.task()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        for (const done of waiters) done();
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  /** Asked to run again while a run is under way: that run is still owed. */
  get pending(): boolean {
    return this.again;
  }

  /**
   * Like run(), and resolves once a run begun after this call has finished (failed runs too):
   * for a caller that must know its change was seen, not only announced.
   */
  settled(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const seen = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.run();
    return seen;
  }

  /** No further runs; resolves when the one under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    await this.running;
    for (const done of this.waiters.splice(0)) done();
  }
}

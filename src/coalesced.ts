/**
 * A task run on demand and never twice at once: asked again while it runs, it runs once more
 * afterwards (however many times it was asked meanwhile). For readers that "look again" when told
 * something may be new: many hints cost at most one extra run.
 */
export class Coalesced {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

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
    this.running = this.task()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  /** No further runs; resolves when the one under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    await this.running;
  }
}

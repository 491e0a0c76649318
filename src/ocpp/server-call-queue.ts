/**
 * Server-initiated CALLs of one charger, one in flight at a time and in order (OCPP-J 1.6
 * §4.1.1, 2.0.1 Part 4 §4.2.1: one outstanding CALL per direction). Each call carries its
 * own deadline: one whose turn comes after its deadline is never sent. The incoming
 * direction has its own queue (call-queue.ts).
 */
export class ServerCallQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Calls queued or in flight. */
  get size(): number {
    return this.waiting;
  }

  /** Runs `send` when every earlier call has finished, or `expired` if the deadline passed first. */
  run<T>(deadline: number, send: () => Promise<T>, expired: () => T): Promise<T> {
    this.waiting++;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const turn = this.tail.then(() => undefined);
    // The caller's answer: whichever comes first, its turn or its deadline.
    const result = new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        if (!done) {
          done = true;
          resolve(expired());
        }
      }, Math.max(0, deadline - Date.now()));
      void turn.then(() => {
        if (done) return;
        clearTimeout(timer);
        done = true;
        send().then(resolve, reject);
      });
    });
    // The next call waits for this one's turn to end (its send, or its expiry if it never got one).
    this.tail = Promise.all([turn, result.catch(() => undefined)]).then(
      () => this.waiting--,
      () => this.waiting--,
    );
    return result;
  }
}

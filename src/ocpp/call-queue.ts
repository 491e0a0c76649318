import { RPCGenericError } from './ocpp-rpc-cjs.js';

/**
 * The CALLs of one connection, handled one at a time in arrival order. OCPP-J
 * (1.6 §4.1.1, 2.0.1 §4.1.1) allows one outstanding CALL per direction; a charger
 * that pipelines more is queued up to `bound` and refused beyond it, so one
 * charger can put at most one message at a time into the shared commit stream
 * and cannot starve the others.
 */
export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly bound: number) {}

  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.pending >= this.bound) {
      return Promise.reject(new RPCGenericError(`more than ${this.bound} CALLs outstanding; OCPP-J allows one at a time`));
    }
    this.pending++;
    const result = this.tail.then(call);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }
}

/**
 * The node-to-node bus (DESIGN.md §4, docs/operations.md "Cluster"): requests addressed to one
 * node, and broadcasts to every node. Two implementations: in process (one node, no extra service)
 * and NATS (DYNAMO_NATS_URL); the composition root picks one and nothing else knows which.
 *
 * The bus carries work and wake-ups, never truth: the database decides who holds a charger and
 * what happened, so a lost message delays something, it never loses it.
 */
export interface Bus {
  /** This node's id: requests addressed to it reach the handlers given to answer(). */
  readonly nodeId: string;
  /**
   * Sends `body` to the handler of `topic` on node `to` and resolves with its answer. Rejects with
   * NoResponderError when that node is not on the bus (dead, stopped, unknown), with
   * BusTimeoutError when it did not answer within `timeoutMs`, with BusError when the bus failed.
   */
  request(to: string, topic: string, body: unknown, timeoutMs: number): Promise<unknown>;
  /**
   * Answers requests to this node on `topic`; a handler that throws sends the sender a BusError.
   * Resolves once other nodes can reach it (NATS: the subscription is registered with the server).
   */
  answer(topic: string, handler: (body: unknown) => Promise<unknown>): Promise<void>;
  /** Sends `body` to every node listening on `topic`, this one included. At most once, unacknowledged. */
  broadcast(topic: string, body: unknown): void;
  /** Listens to broadcasts on `topic`; returns how to stop. */
  listen(topic: string, handler: (body: unknown) => void): () => void;
  /** Stops answering and listening; waits for answers already being worked on to be sent. */
  close(): Promise<void>;
}

export class BusError extends Error {
  override readonly name: string = 'BusError';
}

/** Nobody answers for that node: it is not connected to the bus. */
export class NoResponderError extends BusError {
  override readonly name = 'NoResponderError';
}

export class BusTimeoutError extends BusError {
  override readonly name = 'BusTimeoutError';
}

/** Topics are short dotted words; they become part of NATS subjects. */
export function checkTopic(topic: string): string {
  if (!/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/.test(topic)) throw new Error(`bus topic "${topic}" is not a dotted lowercase word`);
  return topic;
}

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { aCharger } from './support/builders.js';
import { dbKind } from './support/database.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { connectCharger } from './support/charger.js';
import { eventually } from './support/history.js';
import type { ChargerConnection } from '../src/ocpp/connection.js';

// What an idle connection keeps alive is what 50,000 of them cost (docs/benchmarks.md, "Memory per
// idle connection"): these tests ask the garbage collector whether an object is still reachable.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Resolves once nothing reaches the object any more (a full collection before each look); fails after 15 s. */
async function collected(ref: WeakRef<object>): Promise<void> {
  await eventually(
    async () => {
      await new Promise((r) => setTimeout(r, 50));
      gc();
      return ref.deref() === undefined;
    },
    (gone) => gone,
    15_000,
  );
}

describe(`an OCPP connection keeps only what it uses (${dbKind})`, () => {
  const bed = ocppTestbed();
  /** The charger's connection on the node, once its Connected event committed. */
  const accepted = async (cp: string): Promise<ChargerConnection> =>
    (await eventually(async () => bed.svc.service.gateway.connectionOf(cp), (c) => (c?.connectionId ?? 0) > 0))!;

  it('lets go of its upgrade request, headers and password once accepted, and still works', async () => {
    const cp = await aCharger(bed.t.api, bed.site, { password: 'a-charger-password-0123' });
    let request: WeakRef<IncomingMessage> | undefined;
    let socket: Socket | undefined;
    const server = bed.svc.service.http.server;
    const noteRequest = (req: IncomingMessage) => {
      if (!req.url?.endsWith(`/${cp}`)) return;
      request = new WeakRef(req);
      socket = req.socket;
    };
    server.on('upgrade', noteRequest);
    const client = await connectCharger(bed.svc.wsUrl, cp, { password: 'a-charger-password-0123' }).finally(() => server.off('upgrade', noteRequest));
    try {
      await accepted(cp);
      const handshake = bed.svc.service.gateway.connectionOf(cp)!.client.handshake;
      expect(handshake.identity).toBe(cp);
      expect(handshake.password).toBeUndefined();
      expect(handshake.headers).toBeUndefined();
      await collected(request!);
      const answer = await client.call('Heartbeat', {});
      expect(answer.currentTime).toEqual(expect.any(String));

      // The socket still has the WebSocket's own error listener: an error on it ends the connection
      // and is recorded, it does not go unhandled (which would end the process).
      expect(socket!.listenerCount('error')).toBeGreaterThan(0);
      const connectionId = bed.svc.service.gateway.connectionOf(cp)!.connectionId;
      socket!.destroy(new Error('connection reset by the network'));
      const [closed] = await eventually(
        () => bed.svc.service.db.query<{ disconnect_reason: string | null }>('SELECT disconnect_reason FROM connections WHERE connection_id = $1', [connectionId]),
        (rows) => rows[0]?.disconnect_reason != null,
      );
      expect(closed!.disconnect_reason).toBe('closed_by_charger');
    } finally {
      await client.close({ force: true });
    }
  });

  it('does not keep the connection it replaced', async () => {
    const cp = await aCharger(bed.t.api, bed.site);
    await bed.connect(cp);
    const replaced = new WeakRef(await accepted(cp));
    await bed.connect(cp);
    const replacing = await eventually(async () => bed.svc.service.gateway.connectionOf(cp), (c) => !!c && c !== replaced.deref() && c.connectionId > 0);
    expect(replacing!.closeReason).toBeUndefined();
    await collected(replaced);
  });

  it('keeps no keep-alive timer, reconnect backoff or handler Map of ocpp-rpc, shares one validator table, and answers and validates as before', async () => {
    const strict = [await aCharger(bed.t.api, bed.site), await aCharger(bed.t.api, bed.site)];
    const lenient = await aCharger(bed.t.api, bed.site, { lenient: true });
    const clients = await Promise.all([...strict, lenient].map((cp) => bed.connect(cp)));
    const internals = async (cp: string) => (await accepted(cp)).client as unknown as Record<string, unknown>;
    const [a, b, l] = await Promise.all([...strict, lenient].map(internals));
    for (const c of [a!, b!, l!]) {
      expect(c._nextPingTimeout).toBeUndefined();
      expect(c._backoffStrategy).toBeUndefined();
    }
    // One fixed table per connection instead of a Map of an entry per action.
    expect(a!._handlers).not.toBeInstanceOf(Map);
    expect(b!._handlers).not.toBe(a!._handlers);
    expect(a!._strictValidators).toBeInstanceOf(Map);
    expect(b!._strictValidators).toBe(a!._strictValidators);
    expect(l!._strictValidators).toBe(a!._strictValidators);
    // Validation is as before: a number sent as a string is refused from a strict charger and
    // coerced from a lenient one (docs/ocpp.md, "Lenient mode").
    const stringly = { connectorId: '1', errorCode: 'NoError', status: 'Available' };
    await expect(clients[0]!.call('StatusNotification', stringly)).rejects.toMatchObject({ rpcErrorCode: 'TypeConstraintViolation' });
    await expect(clients[2]!.call('StatusNotification', stringly)).resolves.toEqual({});
    expect((await clients[1]!.call('Heartbeat', {})).currentTime).toEqual(expect.any(String));
    // An action outside the protocol's handlers is NotImplemented, strict or lenient, before any schema.
    for (const c of [clients[0]!, clients[2]!]) {
      await expect(c.call('NoSuchAction', { any: 1 })).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
      await expect(c.call('RemoteStartTransaction', { idTag: 1 })).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    }
  });
});

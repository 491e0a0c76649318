// node dist/bench/object-spread.js
// Why the per-frame and per-event paths (src/ocpp/message-capture.ts, src/ingest/batch.ts,
// src/ocpp/v201/transaction-event.ts) build objects without `{ ...x, more }`: on Node 20 a spread
// clone given more properties is an order of magnitude dearer than the same object written out or
// made with Object.assign (docs/benchmarks.md "Where a message's time goes"). ns per object, the
// objects kept alive in batches as the message-log buffer keeps them.
const ROUNDS = 3;
const N = 300_000;

function measure(name: string, make: () => object): void {
  const times: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let kept: object[] = [];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      kept.push(make());
      if (kept.length >= 50_000) kept = [];
    }
    times.push((Number(process.hrtime.bigint() - t0) / N).toFixed(0));
  }
  console.log(`${name.padEnd(44)} ${times.join(' / ')} ns`);
}

const base = { tenantId: 'ten_1', chargePointId: 'CP-1', calls: new Map<string, string>() };
const event = { type: 'StatusChanged', cp: 'CP-1', connectorId: 1, status: 'Charging', errorCode: 'NoError', at: new Date(), info: null };

console.log(`node ${process.version}, ${N} objects per round, ${ROUNDS} rounds`);
measure('{ ...base, at, outbound, text }', () => ({ ...base, at: Date.now(), outbound: true, text: '[2,"1","Heartbeat",{}]' }));
measure('written out', () => ({ tenantId: base.tenantId, chargePointId: base.chargePointId, calls: base.calls, at: Date.now(), outbound: true, text: '[2,"1","Heartbeat",{}]' }));
measure('{ ...event, eventId }', () => ({ ...event, eventId: 'evt_1' }));
measure('Object.assign({}, event, { eventId })', () => Object.assign({}, event, { eventId: 'evt_1' }));
measure('{ ...event } (no property added)', () => ({ ...event }));

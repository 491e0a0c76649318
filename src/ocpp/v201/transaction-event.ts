import { randomUUID } from 'node:crypto';
import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { effectiveTime } from '../time.js';
import { toMeterSamples, type SampledValueLike } from '../meter-values.js';

interface TransactionEventReq {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string };
  idToken?: { idToken: string; type: string };
  evse?: { id: number; connectorId?: number };
  meterValue?: { timestamp: string; sampledValue: SampledValueLike[] }[];
}

const ENERGY = 'Energy.Active.Import.Register';

/**
 * OCPP 2.0.1 E01–E15. Every TransactionEvent is applied at its own timestamp, so
 * order of arrival does not matter: a retransmission (same seqNo) is recognised
 * and skipped (in the same commit: the changes are guarded by the claim of the
 * seqNo, see SeqGuard); an Updated or Ended seen before its Started makes a provisional
 * session that the Started corrects; offline replays land where they happened.
 * chargingState Charging makes the EVSE report Charging (DESIGN.md §3).
 */
export async function transactionEvent(ctx: HandlerContext, p: TransactionEventReq) {
  const receivedAt = new Date();
  const at = effectiveTime(p.timestamp, receivedAt);
  const cp = ctx.conn.cp;
  const transactionId = p.transactionInfo.transactionId;
  const answer = p.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};

  // Claims the seqNo; the changes below are guarded by this claim and committed with it.
  const guard = { transactionId, seqNo: p.seqNo, messageKey: randomUUID() };
  const events: ChargerEvent[] = [{ type: 'TransactionSeq', cp, transactionId, seqNo: p.seqNo, messageKey: guard.messageKey, at, receivedAt }];
  const evse = p.evse?.id ?? ctx.conn.transactionEvse.get(transactionId) ?? 0;
  if (p.evse) ctx.conn.transactionEvse.set(transactionId, p.evse.id);
  const { samples, dropped } = toMeterSamples(p.meterValue ?? [], receivedAt);
  ctx.droppedSamples(dropped);
  const energy = samples.filter((s) => s.measurand === ENERGY && s.phase === null).at(-1)?.value ?? null;

  // The session row: made by the Started, or provisionally by the first other event seen for it.
  if (p.eventType === 'Started' || !ctx.conn.knownTransactions.has(transactionId)) {
    ctx.conn.knownTransactions.add(transactionId);
    events.push({
      type: 'SessionStarted', cp, connectorId: evse, idTag: p.idToken?.idToken ?? null,
      meterStartWh: p.eventType === 'Started' ? energy : null, at, receivedAt, transactionId, provisional: p.eventType !== 'Started',
    });
  }
  if (samples.length) events.push({ type: 'MeterSampled', cp, connectorId: evse, transactionId, samples, receivedAt });

  const state = p.transactionInfo.chargingState;
  const statusAt = (status: string): ChargerEvent => ({
    type: 'StatusChanged', cp, connectorId: evse, evseId: evse, status, errorCode: null, info: null,
    vendorId: null, vendorErrorCode: null, chargerTime: at, at, receivedAt,
  });
  if (evse > 0 && state === 'Charging' && p.eventType !== 'Ended') {
    ctx.conn.chargingEvses.add(evse);
    events.push(statusAt('Charging'));
  } else if (evse > 0 && (p.eventType === 'Ended' || (state && state !== 'Charging')) && ctx.conn.chargingEvses.delete(evse)) {
    // Stopped charging: the cable may still be in, so Occupied until the next StatusNotification.
    events.push(statusAt('Occupied'));
  }
  if (p.eventType === 'Ended') {
    ctx.conn.transactionEvse.delete(transactionId);
    ctx.conn.knownTransactions.delete(transactionId);
    events.push({ type: 'SessionEnded', cp, transactionId, meterStopWh: energy, reason: p.transactionInfo.stoppedReason ?? 'Local', at, receivedAt });
  }
  await Promise.all(events.map((e, i) => ctx.submit(i === 0 ? e : { ...e, guard })));
  return answer;
}

import { randomUUID } from 'node:crypto';
import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { checkConnectorId, checkInt4 } from '../storable.js';
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
 * What the message does not repeat (its EVSE, whether it was charging) is the
 * session row's, in the database: nothing is remembered on the connection.
 */
export async function transactionEvent(ctx: HandlerContext, p: TransactionEventReq) {
  const receivedAt = new Date();
  const at = effectiveTime(p.timestamp, receivedAt);
  const cp = ctx.conn.cp;
  const transactionId = p.transactionInfo.transactionId;
  checkInt4('seqNo', p.seqNo);
  const evse = p.evse ? checkConnectorId('evse.id', p.evse.id) : null;
  const answer = p.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};

  const { samples, dropped } = toMeterSamples(p.meterValue ?? [], receivedAt);
  ctx.droppedSamples(dropped);
  const energy = samples.filter((s) => s.measurand === ENERGY && s.phase === null).at(-1)?.value ?? null;
  const started = p.eventType === 'Started';
  const ended = p.eventType === 'Ended';

  // Claims the seqNo; the changes after it are guarded by this claim and committed with it.
  const guard = { transactionId, seqNo: p.seqNo, messageKey: randomUUID() };
  const events: ChargerEvent[] = [
    { type: 'TransactionSeq', cp, transactionId, seqNo: p.seqNo, messageKey: guard.messageKey, at, receivedAt },
    // The session row: made by the Started, or provisionally by the first other event seen for it.
    {
      type: 'SessionStarted', cp, connectorId: evse, idTag: p.idToken?.idToken ?? null,
      meterStartWh: started ? energy : null, at, receivedAt, transactionId, provisional: !started, guard,
    },
  ];
  if (samples.length) events.push({ type: 'MeterSampled', cp, connectorId: evse, transactionId, samples, receivedAt, guard });
  if (p.transactionInfo.chargingState || ended) {
    events.push({ type: 'ChargingState', cp, transactionId, evseId: evse, chargingState: p.transactionInfo.chargingState ?? null, ended, at, receivedAt, guard });
  }
  if (ended) events.push({ type: 'SessionEnded', cp, transactionId, meterStopWh: energy, reason: p.transactionInfo.stoppedReason ?? 'Local', at, receivedAt, guard });

  await ctx.submit(events);
  return answer;
}

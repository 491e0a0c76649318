import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';

interface ReportData {
  component: { name: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string };
  variableAttribute: { type?: string; value?: string }[];
}

/** OCPP 2.0.1 B07/B08: of a device-model report we keep the connector types, per EVSE. */
export async function notifyReport(ctx: HandlerContext, p: { requestId: number; generatedAt: string; seqNo: number; reportData?: ReportData[] }) {
  const now = new Date();
  const events: ChargerEvent[] = [];
  for (const r of p.reportData ?? []) {
    const value = r.variableAttribute.find((a) => (a.type ?? 'Actual') === 'Actual')?.value;
    if (r.component.name === 'Connector' && r.variable.name === 'ConnectorType' && r.component.evse && value) {
      const evse = checkConnectorId('component.evse.id', r.component.evse.id);
      events.push({ type: 'ConnectorType', cp: ctx.conn.cp, connectorId: evse, evseId: evse, connectorType: value, at: now });
    }
  }
  await ctx.submit(events);
  return {};
}

import type { CommandAdapter } from './adapter.js';
import { ocpp16Commands } from './ocpp16.js';
import { ocpp2Commands } from './ocpp2.js';

/** The adapter for an OCPP version as the connection reports it ("1.6", "2.0.1", "2.1"). */
export function adapterFor(ocppVersion: string): CommandAdapter | undefined {
  if (ocppVersion === '1.6') return ocpp16Commands;
  if (ocppVersion === '2.0.1' || ocppVersion === '2.1') return ocpp2Commands;
  return undefined;
}

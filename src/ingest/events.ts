import type { DisconnectReason } from '../store/history/connections.js';

/**
 * The version-neutral event model. The OCPP adapters (1.6, 2.0.1, 2.1) turn
 * messages into these; nothing after them knows which version a charger speaks.
 * `at` is when it happened (the charger's clock when plausible), `receivedAt` when we got it.
 */
/** OCPP 2.x: ties an event to the TransactionEvent message that claimed its seqNo (TransactionSeq). */
export interface SeqGuard {
  transactionId: string;
  seqNo: number;
  messageKey: string;
}

type Guarded<T> = T & { guard?: SeqGuard };

export type ChargerEvent = Guarded<ChargerEventBody>;

type ChargerEventBody =
  | { type: 'Connected'; cp: string; at: Date; nodeId: string; ocppVersion: string; remoteAddress: string | null }
  | { type: 'Disconnected'; cp: string; connectionId: number; at: Date; reason: DisconnectReason }
  | { type: 'Booted'; cp: string; at: Date; boot: BootInfo }
  | {
      type: 'StatusChanged';
      cp: string;
      connectorId: number;
      evseId: number | null;
      status: string;
      errorCode: string | null;
      info: string | null;
      vendorId: string | null;
      vendorErrorCode: string | null;
      chargerTime: Date | null;
      at: Date;
      receivedAt: Date;
      /** OCPP 2.x: Occupied is stored as Charging while the EVSE's open transaction is charging. */
      chargingWhenOccupied?: boolean;
    }
  | {
      type: 'SessionStarted';
      cp: string;
      /** 2.x: null when the message does not name its EVSE (a session already known keeps its own). */
      connectorId: number | null;
      idTag: string | null;
      meterStartWh: number | null;
      at: Date;
      receivedAt: Date;
      /** The charger's own id (OCPP 2.x); absent for 1.6, where we hand one out. */
      transactionId?: string;
      /** 2.x: made from an Updated/Ended seen before its Started; `at` is only the earliest time known. */
      provisional?: boolean;
    }
  | { type: 'MeterSampled'; cp: string; connectorId: number | null; transactionId: string | null; samples: MeterSample[]; receivedAt: Date }
  | {
      type: 'SessionEnded';
      cp: string;
      transactionId: string;
      meterStopWh: number | null;
      reason: string | null;
      at: Date;
      receivedAt: Date;
    }
  | {
      /** OCPP 2.x TransactionEvent chargingState (or the end of the transaction); evseId null = the session's own. */
      type: 'ChargingState';
      cp: string;
      transactionId: string;
      evseId: number | null;
      chargingState: string | null;
      ended: boolean;
      at: Date;
      receivedAt: Date;
    }
  | { type: 'FirmwareStatus'; cp: string; status: string; at: Date; receivedAt: Date }
  | { type: 'DiagnosticsStatus'; cp: string; status: string; at: Date; receivedAt: Date }
  | { type: 'Noted'; cp: string; kind: string; payload: unknown; at: Date; receivedAt: Date }
  | {
      type: 'ErrorRaised';
      cp: string;
      connectorId: number;
      errorCode: string;
      componentVariable: string | null;
      info: string | null;
      status: string | null;
      source: 'notify' | 'status';
      /** A Faulted status adds no event when a problem is already open on the connector. */
      unlessOpen?: boolean;
      at: Date;
      receivedAt: Date;
    }
  | {
      type: 'ErrorCleared';
      cp: string;
      connectorId: number;
      errorCode: string | null;
      componentVariable: string | null;
      source: 'notify' | 'status';
      at: Date;
      receivedAt: Date;
    }
  | { type: 'TransactionSeq'; cp: string; transactionId: string; seqNo: number; messageKey: string; at: Date; receivedAt: Date }
  | { type: 'ConnectorType'; cp: string; connectorId: number; evseId: number | null; connectorType: string; at: Date };


/** What applying an event yields, for the answer to the charger. */
export interface ApplyResult {
  connectionId?: number;
  /** Connected: the hold this connection took over (another node's, or one left by a lost node), if any. */
  previousHolder?: { nodeId: string; connectionId: number } | null;
  transactionId?: string;
  /** The charger referred to a transaction we never saw (recorded, answered normally). */
  unknownTransaction?: boolean;
  /** A TransactionEvent seqNo already stored: a retransmission. */
  duplicate?: boolean;
}

export interface BootInfo {
  vendor: string;
  model: string;
  serialNumber?: string | null;
  boxSerialNumber?: string | null;
  firmwareVersion?: string | null;
  iccid?: string | null;
  imsi?: string | null;
  meterType?: string | null;
  meterSerial?: string | null;
}

export interface MeterSample {
  sampledAt: Date;
  measurand: string;
  phase: string | null;
  /** Normalised: Wh for energy, W for power. */
  value: number;
  unit: string;
  context: string | null;
}

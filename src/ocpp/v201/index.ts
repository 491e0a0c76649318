import type { Handler } from '../connection.js';
import { heartbeat } from '../heartbeat.js';
import { dataTransfer } from '../data-transfer.js';
import { firmwareStatusNotification } from '../firmware-status-notification.js';
import { authorize } from './authorize.js';
import { bootNotification } from './boot-notification.js';
import { logStatusNotification } from './log-status-notification.js';
import { meterValues } from './meter-values.js';
import { notifyEvent } from './notify-event.js';
import { notifyReport } from './notify-report.js';
import { securityEventNotification } from './security-event-notification.js';
import { statusNotification } from './status-notification.js';
import { transactionEvent } from './transaction-event.js';

/** Charger-initiated OCPP 2.0.1 messages; OCPP 2.1 uses the same set (its schemas validate them). Else NotImplemented. */
export const v2Handlers: Record<string, Handler> = {
  Authorize: authorize,
  BootNotification: bootNotification,
  DataTransfer: dataTransfer,
  FirmwareStatusNotification: firmwareStatusNotification,
  Heartbeat: heartbeat,
  LogStatusNotification: logStatusNotification,
  MeterValues: meterValues,
  NotifyEvent: notifyEvent,
  NotifyReport: notifyReport,
  SecurityEventNotification: securityEventNotification,
  StatusNotification: statusNotification,
  TransactionEvent: transactionEvent,
};

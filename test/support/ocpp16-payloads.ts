/** An OCPP 1.6 StatusNotification, stamped with the current time. */
export const statusNotification = (connectorId: number, status: string, errorCode = 'NoError') => ({
  connectorId,
  status,
  errorCode,
  timestamp: new Date().toISOString(),
});

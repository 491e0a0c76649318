/** Subprotocols we speak, newest first: a charger offering several gets the newest we share (OCPP-J §3.1). */
export const SUPPORTED_PROTOCOLS = ['ocpp2.1', 'ocpp2.0.1', 'ocpp1.6'] as const;
export type OcppProtocol = (typeof SUPPORTED_PROTOCOLS)[number];

export function pickProtocol(offered: Set<string>, enabled: readonly OcppProtocol[]): OcppProtocol | undefined {
  return SUPPORTED_PROTOCOLS.find((p) => enabled.includes(p) && offered.has(p));
}

/** "ocpp2.0.1" → "2.0.1", as the API reports it. */
export function versionOf(protocol: string): string {
  return protocol.replace(/^ocpp/, '');
}

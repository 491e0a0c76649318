/**
 * Configuration keys and device-model variables whose values are secrets: the charger's
 * Basic-auth password (OCPP 1.6 Security whitepaper `AuthorizationKey`, OCPP 2.0.1
 * `SecurityCtrlr.BasicAuthPassword`) and anything named like a password, secret or private key
 * or passphrase. Their values are never stored in clear, neither in the message log nor in a
 * command record (DESIGN.md §4, security model).
 */
const SECRET_NAME = /authorizationkey|password|passwd|secret|privatekey|passphrase/i;
export const MASK = '********';

export function isSecretKey(name: unknown): boolean {
  return typeof name === 'string' && SECRET_NAME.test(name);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const name = (v: unknown) => (isObject(v) ? v.name : undefined);

/**
 * Masks the secret values of one OCPP message (a CALL's params or a CALLRESULT's payload),
 * given its action; returns the payload itself when nothing needed masking. Covers the
 * messages that carry configuration values: 1.6 ChangeConfiguration / GetConfiguration,
 * 2.x SetVariables / GetVariables / NotifyReport, and 2.x SetNetworkProfile.
 */
export function maskOcppSecrets(action: string | null | undefined, payload: unknown): unknown {
  if (!isObject(payload) || !action) return payload;
  switch (action) {
    case 'ChangeConfiguration':
      return isSecretKey(payload.key) && 'value' in payload ? { ...payload, value: MASK } : payload;
    case 'GetConfiguration':
      return maskList(payload, 'configurationKey', (e) => (isSecretKey(e.key) && 'value' in e ? { ...e, value: MASK } : e));
    case 'SetVariables':
      return maskList(payload, 'setVariableData', (e) => (isSecretKey(name(e.variable)) && 'attributeValue' in e ? { ...e, attributeValue: MASK } : e));
    case 'GetVariables':
      return maskList(payload, 'getVariableResult', (e) => (isSecretKey(name(e.variable)) && 'attributeValue' in e ? { ...e, attributeValue: MASK } : e));
    case 'NotifyReport':
      return maskList(payload, 'reportData', (e) =>
        isSecretKey(name(e.variable)) && Array.isArray(e.variableAttribute)
          ? { ...e, variableAttribute: e.variableAttribute.map((a) => (isObject(a) && 'value' in a ? { ...a, value: MASK } : a)) }
          : e,
      );
    case 'SetNetworkProfile': {
      const data = payload.connectionData;
      return isObject(data) ? { ...payload, connectionData: maskDeep(data) } : payload;
    }
    default:
      return payload;
  }
}

function maskList(payload: Json, field: string, mask: (e: Json) => Json): Json {
  const list = payload[field];
  if (!Array.isArray(list)) return payload;
  let changed = false;
  const out = list.map((e) => {
    if (!isObject(e)) return e;
    const m = mask(e);
    if (m !== e) changed = true;
    return m;
  });
  return changed ? { ...payload, [field]: out } : payload;
}

function maskDeep(v: Json): Json {
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, isSecretKey(k) && typeof x !== 'object' ? MASK : isObject(x) ? maskDeep(x) : x]),
  );
}

/** Actions whose messages may carry a secret (the message log parses only these). */
export const ACTIONS_WITH_SECRETS: ReadonlySet<string> = new Set([
  'ChangeConfiguration', 'GetConfiguration', 'SetVariables', 'GetVariables', 'NotifyReport', 'SetNetworkProfile',
]);

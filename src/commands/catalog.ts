import { Type, type Static, type TSchema } from 'typebox';

/**
 * The commands an operator can send (docs/commands.md), version-neutral: one schema per
 * command for its `parameters`. The adapters (adapters/ocpp16.ts, adapters/ocpp2.ts) turn
 * each into the CALL of the charger's OCPP version.
 */
const ConnectorId = Type.Integer({ minimum: 1, maximum: 1000, description: 'Connector (OCPP 2.x: the EVSE id).' });
const OptionalConnector = Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Connector (2.x: EVSE); omitted or 0: the whole charger.' }));
const Url = Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z][A-Za-z0-9+.-]*://\\S+$', description: 'URL the charger fetches from or uploads to (ftp://, http(s)://, …).' });

/** The messages TriggerMessage can ask for, across versions (a name a version lacks answers NotSupported). */
export const TRIGGERABLE = [
  'BootNotification', 'Heartbeat', 'MeterValues', 'StatusNotification', 'FirmwareStatusNotification',
  'DiagnosticsStatusNotification', 'LogStatusNotification', 'TransactionEvent', 'SignChargingStationCertificate',
  'SignV2GCertificate', 'SignCombinedCertificate', 'PublishFirmwareStatusNotification',
] as const;

const obj = <P extends Record<string, TSchema>>(props: P) => Type.Object(props, { additionalProperties: false });

export const COMMAND_PARAMETERS = {
  start_session: obj({
    connector_id: ConnectorId,
    id_tag: Type.String({ minLength: 1, maxLength: 36, description: 'The token to start with (1.6: at most 20 characters).' }),
    id_tag_type: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'OCPP 2.x idToken type (default Central).' })),
  }),
  stop_session: obj({ session_id: Type.String({ pattern: '^ses_[0-9]{1,18}$', description: 'A session of this charger (ses_…, from /api/v1/cpo/sessions).' }) }),
  set_available: obj({ connector_id: OptionalConnector }),
  set_unavailable: obj({ connector_id: OptionalConnector }),
  soft_reset: obj({}),
  hard_reset: obj({}),
  unlock_connector: obj({ connector_id: ConnectorId }),
  set_power_limit: obj({
    limit_kw: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'Limit in kW (exactly one of limit_kw, limit_a).' })),
    limit_a: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'Limit in A per phase.' })),
    connector_id: OptionalConnector,
    duration_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000, description: 'How long the limit holds; omitted: until cleared.' })),
  }),
  clear_power_limit: obj({ connector_id: OptionalConnector }),
  get_configuration: obj({
    keys: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 101 }), {
        minItems: 1, maxItems: 100, uniqueItems: true,
        description: '1.6: configuration keys; 2.x: "Component.Variable" names. Omitted: all keys (1.6 only).',
      }),
    ),
  }),
  change_configuration: obj({
    key: Type.String({ minLength: 1, maxLength: 101, description: '1.6: the configuration key; 2.x: "Component.Variable".' }),
    value: Type.String({ maxLength: 1000, description: '1.6: at most 500 characters.' }),
  }),
  trigger_message: obj({ message: Type.Union(TRIGGERABLE.map((m) => Type.Literal(m))), connector_id: OptionalConnector }),
  update_firmware: obj({ location: Url, retrieve_at: Type.Optional(Type.String({ format: 'date-time', description: 'When to download (default now).' })) }),
  get_diagnostics: obj({ location: Url }),
  data_transfer: obj({
    vendor_id: Type.String({ minLength: 1, maxLength: 255 }),
    message_id: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    data: Type.Optional(Type.String({ maxLength: 10_000 })),
  }),
} as const;

export type CommandName = keyof typeof COMMAND_PARAMETERS;
export const COMMAND_NAMES = Object.keys(COMMAND_PARAMETERS) as CommandName[];
export type CommandParams<C extends CommandName = CommandName> = Static<(typeof COMMAND_PARAMETERS)[C]>;

export const isCommandName = (s: string): s is CommandName => Object.hasOwn(COMMAND_PARAMETERS, s);

/** What a command's answer was: the statuses of docs/commands.md. */
export const COMMAND_STATUSES = ['Pending', 'Accepted', 'Rejected', 'NotSupported', 'Timeout', 'Error', 'Offline'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

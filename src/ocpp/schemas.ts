import { createRequire } from 'node:module';
import { createValidator } from 'ocpp-rpc';

const require = createRequire(import.meta.url);
const FILES: Record<string, string> = {
  'ocpp1.6': 'ocpp-rpc/lib/schemas/ocpp1_6.json',
  'ocpp2.0.1': 'ocpp-rpc/lib/schemas/ocpp2_0_1.json',
  'ocpp2.1': 'ocpp-rpc/lib/schemas/ocpp2_1.json',
};

/**
 * The official JSON schemas as ocpp-rpc ships them, with one repair: its OCPP 2.1
 * file names schemas `urn:XRequest`/`urn:XResponse` while its validator looks up
 * `urn:X.req`/`urn:X.conf`, so 2.1 strict mode would refuse every message.
 */
export function schemasFor(protocol: string): object[] {
  const schemas = require(FILES[protocol]!) as { $id: string; definitions?: Record<string, Record<string, unknown>> }[];
  if (protocol !== 'ocpp2.1') return schemas;
  return schemas.map((s) => ({
    ...s,
    $id: s.$id.replace(/Request$/, '.req').replace(/Response$/, '.conf'),
    // The 2.1 file also puts additionalProperties on enum (string) definitions, which means
    // nothing there and makes Ajv print a strict-mode warning per schema: drop it.
    definitions: Object.fromEntries(
      Object.entries(s.definitions ?? {}).map(([name, d]) => {
        if (d.type === 'object' || !('additionalProperties' in d)) return [name, d];
        const { additionalProperties: _ignored, ...rest } = d;
        return [name, rest];
      }),
    ),
  }));
}

/** Validators that replace ocpp-rpc's own for the protocols whose files need the repair. */
export function repairedValidators() {
  return [createValidator('ocpp2.1', schemasFor('ocpp2.1'))];
}

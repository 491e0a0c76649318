import { Type, type Static, type TSchema } from 'typebox';
import { Timestamp } from './timestamps.js';

// Rows carry Date objects; timestamps.ts writes every one in the API's one format.
export { Timestamp };

export const LIMIT_DEFAULT = 100;
export const LIMIT_MAX = 1000;

/**
 * `type: [T, "null"]` rather than anyOf: with anyOf, AJV's type coercion would
 * turn a null into "" while trying the string branch.
 */
export const Nullable = <T extends TSchema>(t: T) =>
  Type.Unsafe<Static<T> | null>({ ...t, type: [(t as { type?: string }).type ?? 'string', 'null'] });
export const NullableTimestamp = Nullable(Timestamp);

export const PageQuery = {
  limit: Type.Integer({
    minimum: 1,
    maximum: LIMIT_MAX,
    default: LIMIT_DEFAULT,
    description: `Maximum number of items to return (default ${LIMIT_DEFAULT}, at most ${LIMIT_MAX}).`,
  }),
  // Bounded so a huge offset is a 400 here, not a bigint overflow (500) in the database.
  offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Number of matching items to skip.' }),
};

export const PageFields = {
  total: Type.Integer({ description: 'All items that match, not only this page.' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
};

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      status: Type.Integer(),
      code: Type.String({ description: 'Machine-readable error code, e.g. invalid_parameter, not_found.' }),
      message: Type.String({ description: 'What went wrong, for a human.' }),
      parameter: Nullable(Type.String({ description: 'The offending parameter or field, when one is to blame.' })),
      request_id: Type.String(),
    }),
  },
  { $id: 'Error', description: 'The one error shape of every route.' },
);

const errorRef = Type.Ref('Error');
/** Standard error responses for a route, so OpenAPI documents them all. */
export function errors(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, errorRef]));
}

// OCPP identifierString (OCPP 2.0.1 Part 2 §2.1.1): at most 48 characters from a URL-safe set.
export const ChargePointId = Type.String({
  minLength: 1,
  maxLength: 48,
  pattern: '^[A-Za-z0-9*_=:+|@.\\-]+$',
  description: 'The OCPP identity of the charger.',
});

export const SiteId = Type.String({ pattern: '^site_[0-9A-Za-z]+$', maxLength: 64, description: 'Site id (site_…).' });

import { ApiFailure } from '../api/client';

/** A refusal of the API mapped onto a form: the field it names, or the form as a whole. */
export interface FormErrors {
  fields: Record<string, string>;
  form: string | null;
}

export const noErrors: FormErrors = { fields: {}, form: null };

/** The API names the offending field in `parameter` (`events.0` for an item): shown at that field when the form has it. */
export function errorsOf(err: unknown, fields: readonly string[]): FormErrors {
  const f = err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String(err));
  const field = f.parameter?.split('.')[0];
  if (field && fields.includes(field)) return { fields: { [field]: f.message }, form: null };
  return { fields: {}, form: f.message };
}

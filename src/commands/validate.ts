import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { COMMAND_NAMES, COMMAND_PARAMETERS, isCommandName, type CommandName, type CommandParams } from './catalog.js';
import { CommandInputError } from './errors.js';

// Compiled on first use, so starting a process (or the CLI) does not pay for it.
let ajv: Ajv.default | undefined;
const validators = new Map<CommandName, ValidateFunction>();
function validatorOf(command: CommandName): ValidateFunction {
  let v = validators.get(command);
  if (!v) {
    ajv ??= addFormats.default(new Ajv.default({ allErrors: false, strict: false }));
    validators.set(command, (v = ajv.compile(COMMAND_PARAMETERS[command])));
  }
  return v;
}

/** Checks a command and its parameters against the catalog; throws CommandInputError naming what is wrong. */
export function validateCommand(command: string, parameters: unknown): { command: CommandName; parameters: CommandParams } {
  if (!isCommandName(command)) throw new CommandInputError('command', `unknown command "${command}"; one of ${COMMAND_NAMES.join(', ')}`);
  const params = parameters ?? {};
  const validate = validatorOf(command);
  if (!validate(params)) {
    const e = validate.errors?.[0];
    const extra = (e?.params as { additionalProperty?: string; missingProperty?: string } | undefined) ?? {};
    const path = [e?.instancePath.replace(/^\//, '').replace(/\//g, '.'), extra.additionalProperty ?? extra.missingProperty].filter(Boolean).join('.');
    const parameter = path ? `parameters.${path}` : 'parameters';
    const message = extra.additionalProperty
      ? `unknown parameter "${extra.additionalProperty}" for ${command}`
      : `${parameter} ${e?.message ?? 'is invalid'}`;
    throw new CommandInputError(parameter, message);
  }
  const p = params as CommandParams<'set_power_limit'> & CommandParams<'update_firmware'>;
  if (command === 'set_power_limit' && (p.limit_kw === undefined) === (p.limit_a === undefined)) {
    throw new CommandInputError('parameters.limit_kw', 'set_power_limit needs exactly one of limit_kw and limit_a');
  }
  if (command === 'update_firmware' && p.retrieve_at !== undefined && !Number.isFinite(Date.parse(p.retrieve_at))) {
    throw new CommandInputError('parameters.retrieve_at', 'parameters.retrieve_at must be an ISO 8601 date-time with a zone');
  }
  return { command, parameters: params as CommandParams };
}

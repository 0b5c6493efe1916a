import { modeNames, type DeepPartial, type Mode, type PolicyInput } from '@nexus-control/client';
import { positiveInt } from './parseCommandArgs.js';
import { UsageError } from './UsageError.js';

/** Policy flags of `decision create` and `template create`. */
export const POLICY_OPTIONS = {
  'min-approvals': { type: 'string' },
  'allowed-modes': { type: 'string' },
  'require-capability': { type: 'string', multiple: true },
  'max-steps': { type: 'string' },
  'no-max-steps': { type: 'boolean' },
  label: { type: 'string', multiple: true },
  'no-labels': { type: 'boolean' },
} as const;

export const POLICY_OPTIONS_HELP = `policy (unset fields come from the template, else the defaults):
  --min-approvals N          distinct active approvals needed to execute (default 1)
  --allowed-modes LIST       comma-separated subset of dry_run,apply
                             (default: dry_run for a dry-run request, else dry_run,apply)
  --require-capability CAP   the executing adapter must declare CAP (repeatable)
  --max-steps N              step limit for the router
  --no-max-steps             no step limit (overrides a template's limit)
  --label LABEL              policy label (repeatable; replaces the template's labels)
  --no-labels                no labels (overrides a template's labels)`;

export interface PolicyFlagValues {
  readonly 'min-approvals'?: string | undefined;
  readonly 'allowed-modes'?: string | undefined;
  readonly 'require-capability'?: string[] | undefined;
  readonly 'max-steps'?: string | undefined;
  readonly 'no-max-steps'?: boolean | undefined;
  readonly label?: string[] | undefined;
  readonly 'no-labels'?: boolean | undefined;
}

export function parseMode(text: string, flag: string): Mode {
  const mode = modeNames.fromSpec(text);
  if (mode === undefined) throw new UsageError(`${flag} must be dry_run or apply, got '${text}'`);
  return mode;
}

/** The PolicyInput the flags describe; undefined when no policy flag was given. */
export function policyFromFlags(values: PolicyFlagValues): DeepPartial<PolicyInput> | undefined {
  const policy: { -readonly [K in keyof DeepPartial<PolicyInput>]: DeepPartial<PolicyInput>[K] } = {};
  if (values['min-approvals'] !== undefined) policy.minApprovals = positiveInt(values['min-approvals'], '--min-approvals');
  if (values['allowed-modes'] !== undefined) {
    const modes = values['allowed-modes'].split(',').map((mode) => mode.trim());
    policy.allowedModes = { values: modes.map((mode) => parseMode(mode, '--allowed-modes')) };
  }
  if (values['require-capability'] !== undefined) policy.requireAdapterCapabilities = { values: values['require-capability'] };
  if (values['max-steps'] !== undefined && values['no-max-steps'])
    throw new UsageError('--max-steps and --no-max-steps exclude each other');
  if (values['max-steps'] !== undefined) policy.maxSteps = positiveInt(values['max-steps'], '--max-steps');
  if (values['no-max-steps']) policy.noMaxSteps = {};
  if (values.label !== undefined && values['no-labels']) throw new UsageError('--label and --no-labels exclude each other');
  if (values.label !== undefined) policy.labels = { values: values.label };
  if (values['no-labels']) policy.labels = { values: [] };
  return Object.keys(policy).length === 0 ? undefined : policy;
}

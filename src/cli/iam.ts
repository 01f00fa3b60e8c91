import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';
import { iamPolicy } from '../runtime/iam/policy.js';
import { ACCOUNT_PATTERN, REGION_PATTERN } from '../runtime/iam/statements.js';
import { tablePrefix } from '../views/tables/naming.js';

/** Flags of `tributary iam`. */
export interface IamFlags {
  /** Environment prefix of the app's tables, as given to `tributary run --prefix`. */
  readonly prefix?: string;
  /** Region of the ARNs. Default `AWS_REGION` (then `AWS_DEFAULT_REGION`); `*` for any. */
  readonly region?: string;
  /** Account id of the ARNs. Default `*`. */
  readonly account?: string;
}

/**
 * The flags of `tributary iam` from parsed arguments; a region or account that cannot be in an ARN
 * is a `cli.usage` error.
 *
 * @example
 * ```ts
 * iamFlags({ prefix: 'prod_', region: 'eu-west-1' }); // { prefix: 'prod_', region: 'eu-west-1', account: undefined }
 * ```
 */
export function iamFlags(v: Partial<Record<string, string | boolean>>): IamFlags {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const flags = { prefix: str('prefix'), region: str('region'), account: str('account') };
  if (flags.region !== undefined && !REGION_PATTERN.test(flags.region))
    throw new TributaryError(
      'cli.usage',
      `iam: --region must be a region name (eu-west-1) or '*', got '${flags.region}'`,
    );
  if (flags.account !== undefined && !ACCOUNT_PATTERN.test(flags.account))
    throw new TributaryError(
      'cli.usage',
      `iam: --account must be a 12-digit account id or '*', got '${flags.account}'`,
    );
  return flags;
}

/** IAM's limit on a managed policy, in characters without whitespace (inline role policies: 10,240). */
const MANAGED_POLICY_LIMIT = 6_144;

/**
 * `tributary iam`: prints the least-privilege IAM policy of the app as `tributary run` runs it (see
 * `iamPolicy`), as JSON on stdout. Parts of the app that declare no permissions (custom sinks or
 * sources) are named on stderr, as is a policy too large for a managed policy. Resolves with 0;
 * without a region (flag or environment) it throws `config.noRegion`.
 *
 * @example
 * ```ts
 * await iamCommand(await loadApp('examples/shop.ts'), { prefix: 'prod_', region: 'eu-west-1', account: '123456789012' });
 * ```
 */
export async function iamCommand(def: AppDef, flags: IamFlags = {}): Promise<number> {
  const region = flags.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
  if (!region)
    throw new TributaryError(
      'config.noRegion',
      "no AWS region for the policy's ARNs: set AWS_REGION or pass --region (--region '*' for any region)",
      { details: { variable: 'AWS_REGION' } },
    );
  const { document, undeclared } = iamPolicy(def, {
    region,
    account: flags.account ?? '*',
    tableName: tablePrefix(flags.prefix).physical,
  });
  for (const what of undeclared)
    process.stderr.write(
      `tributary: warning: ${what} declares no IAM permissions (it has no iam()); add what it calls to the policy yourself\n`,
    );
  const text = JSON.stringify(document, null, 2);
  const size = text.replace(/\s/g, '').length;
  if (size > MANAGED_POLICY_LIMIT)
    process.stderr.write(
      `tributary: warning: the policy is ${size} characters, over IAM's ${MANAGED_POLICY_LIMIT} for a managed policy: attach it inline (10,240) or split it\n`,
    );
  process.stdout.write(`${text}\n`);
  return 0;
}

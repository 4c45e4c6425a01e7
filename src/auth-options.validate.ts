import {
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
} from './auth.constants';
import { SUPPORTED_ALGORITHMS, type AuthModuleOptions } from './auth-options.interface';
import { type Clock, SystemClock } from './common/clock';
import { AuthConfigError } from './errors/auth.errors';
import { importSigningKey, type SigningKey } from './keys/signing-key';

/** The options after validation: defaults applied, keys imported. Injected wherever options are read. */
export class AuthConfig {
  constructor(
    readonly options: AuthModuleOptions,
    readonly key: SigningKey,
    readonly accessTokenTtlSeconds: number,
    readonly refreshTokenTtlSeconds: number,
    readonly clockToleranceSeconds: number,
    readonly clock: Clock,
  ) {}

  get issuer(): string {
    return this.options.issuer;
  }

  get audience(): string {
    return this.options.audience;
  }
}

/** Validates every option and throws one AuthConfigError naming each bad one. */
export function resolveAuthConfig(options: AuthModuleOptions | undefined): AuthConfig {
  if (!options) throw new AuthConfigError(['AuthModule options are missing']);
  const problems: string[] = [];

  const alg = options.algorithm ?? 'HS256';
  const supported = (SUPPORTED_ALGORITHMS as readonly string[]).includes(alg);
  if (!supported) {
    problems.push(
      `algorithm "${String(alg)}" is not allowed; use one of ${SUPPORTED_ALGORITHMS.join(', ')}`,
    );
  }
  for (const name of ['issuer', 'audience'] as const) {
    const value: unknown = options[name];
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${name} is required`);
  }
  const access = seconds(
    options.accessTokenTtlSeconds,
    DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    'accessTokenTtlSeconds',
    problems,
    1,
  );
  const refresh = seconds(
    options.refreshTokenTtlSeconds,
    DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
    'refreshTokenTtlSeconds',
    problems,
    1,
  );
  if (access !== undefined && refresh !== undefined && refresh < access) {
    problems.push(
      `refreshTokenTtlSeconds (${refresh}) must not be shorter than accessTokenTtlSeconds (${access})`,
    );
  }
  const tolerance = seconds(
    options.clockToleranceSeconds,
    DEFAULT_CLOCK_TOLERANCE_SECONDS,
    'clockToleranceSeconds',
    problems,
    0,
  );
  if (tolerance !== undefined && tolerance > 300) {
    problems.push(`clockToleranceSeconds (${tolerance}) must be at most 300`);
  }
  for (const hook of ['validateCredentials', 'findUser', 'additionalClaims'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      problems.push(`${hook} must be a function`);
  }
  const key = supported ? importSigningKey(options, alg, problems) : undefined;

  if (
    problems.length > 0 ||
    !key ||
    access === undefined ||
    refresh === undefined ||
    tolerance === undefined
  ) {
    throw new AuthConfigError(problems);
  }
  return new AuthConfig(
    options,
    key,
    access,
    refresh,
    tolerance,
    options.clock ?? new SystemClock(),
  );
}

function seconds(
  value: number | undefined,
  fallback: number,
  name: string,
  problems: string[],
  min: number,
): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    problems.push(`${name} must be a whole number of seconds, at least ${min}`);
    return undefined;
  }
  return value;
}

import { Injectable, Logger } from '@nestjs/common';
import { AuthConfig } from '../auth-options.validate';
import type { ClientRequest } from '../common/client';
import { ClientResolver } from '../context/client-resolver';
import type { TokenClaims } from '../tokens/token-claims.interface';
import type { AuthError } from '../errors/auth.errors';
import { AuditSink, type AuditEvent, type AuditEventName } from './audit-event';

/** What an event is about: a failure's code, the token or session concerned, the request. */
export interface AuditDetails {
  reason?: string;
  token?: Partial<Pick<TokenClaims, 'sub' | 'jti' | 'sid'>>;
  request?: ClientRequest;
}

/** The audit event of a refusal, by status: 401/403 access.refused, 429 rate.limited, 503 store.unavailable. */
const REFUSALS: Partial<Record<number, AuditEventName>> = {
  401: 'access.refused',
  403: 'access.refused',
  429: 'rate.limited',
  503: 'store.unavailable',
};

/** Emits audit events to the configured sink; a sink that throws or rejects is logged, never rethrown. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('AuditService');
  private readonly audited = new WeakSet<AuthError>();

  constructor(
    private readonly sink: AuditSink,
    private readonly config: AuthConfig,
    private readonly clients: ClientResolver,
  ) {}

  emit(event: AuditEventName, { reason, token, request }: AuditDetails = {}): void {
    const record: AuditEvent = {
      time: new Date(this.config.clock.now()).toISOString(),
      event,
      outcome: reason === undefined ? 'success' : 'failure',
      ...(reason !== undefined && { reason }),
      ...(token?.sub !== undefined && { sub: token.sub }),
      ...(token?.jti !== undefined && { jti: token.jti }),
      ...(token?.sid !== undefined && { sid: token.sid }),
      ...(request && this.clients.of(request)),
    };
    try {
      Promise.resolve(this.sink.write(record)).catch((error: unknown) => this.sinkFailed(error));
    } catch (error) {
      this.sinkFailed(error);
    }
  }

  /** Emits a failure event for `error` and returns it; the exception filter will not log it again. */
  failed<E extends AuthError>(event: AuditEventName, error: E, details: AuditDetails = {}): E {
    this.audited.add(error);
    this.emit(event, { ...details, reason: error.code });
    return error;
  }

  /** Reports a refusal (by its status) unless it was reported where it happened. */
  refused(error: AuthError, details: Omit<AuditDetails, 'reason'> = {}): void {
    const event = REFUSALS[error.getStatus()];
    if (event && !this.audited.has(error)) this.failed(event, error, details);
  }

  /** Whether `failed` already reported this error. */
  reported(error: AuthError): boolean {
    return this.audited.has(error);
  }

  private sinkFailed(error: unknown): void {
    this.logger.error(`The audit sink failed: ${error instanceof Error ? error.name : 'error'}`);
  }
}

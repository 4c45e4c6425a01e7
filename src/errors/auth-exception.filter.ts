import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuditEventName } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import type { ClientRequest } from '../common/client';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { AuthError, InvalidTokenError } from './auth.errors';

/** The audit event of a refusal not reported where it happened, by status. */
const EVENTS: Partial<Record<number, AuditEventName>> = {
  401: 'access.refused',
  403: 'access.refused',
  429: 'rate.limited',
  503: 'store.unavailable',
};

/**
 * Answers AuthErrors with their JSON body, adding `WWW-Authenticate` to 401s (RFC 6750
 * section 3): `error="invalid_token"` when a token was presented and refused, a bare challenge
 * when none was. Goes through the HTTP adapter so Express and Fastify answer alike.
 */
@Catch(AuthError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditService,
  ) {}

  catch(error: AuthError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    const status: HttpStatus = error.getStatus();
    const event = EVENTS[status];
    if (event && !this.audit.reported(error)) {
      const request = host.switchToHttp().getRequest<ClientRequest & { user?: AuthPrincipal }>();
      this.audit.emit(event, { reason: error.code, token: request.user, request });
    }
    if (status === HttpStatus.UNAUTHORIZED) {
      const challenge =
        error instanceof InvalidTokenError
          ? `Bearer error="invalid_token", error_description="${error.message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`
          : 'Bearer';
      httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    }
    // A store outage is short-lived: tell clients when to come back instead of hammering.
    if (status === HttpStatus.SERVICE_UNAVAILABLE)
      httpAdapter.setHeader(response, 'Retry-After', '1');
    const { retryAfterSeconds } = error.getResponse() as { retryAfterSeconds?: number };
    if (status === HttpStatus.TOO_MANY_REQUESTS && retryAfterSeconds)
      httpAdapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
    httpAdapter.reply(response, error.getResponse(), status);
  }
}

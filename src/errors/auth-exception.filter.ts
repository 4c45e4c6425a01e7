import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { AuditService } from '../audit/audit.service';
import { authTarget } from '../context/auth-target';
import { answerSocket, connectionErrorBody } from '../context/connections';
import { AuthError, InvalidTokenError } from './auth.errors';

/**
 * Answers AuthErrors in every context: over HTTP with their JSON body and `WWW-Authenticate` on
 * 401s (RFC 6750 section 3: `error="invalid_token"` when a token was presented and refused, a
 * bare challenge when none was); in GraphQL as an error whose `extensions.code` is the code; on
 * a socket as an `exception` event (and the acknowledgement, when the client asked for one)
 * carrying `{ code, message }`, closing it when its token no longer holds.
 */
@Catch(AuthError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditService,
  ) {}

  catch(error: AuthError, host: ArgumentsHost): unknown {
    const target = authTarget(host);
    const status: number = error.getStatus();
    this.audit.refused(error, { token: target.request?.user, request: target.request });
    if (target.response !== undefined) this.setHeaders(target.response, error);
    switch (target.type) {
      case 'http':
        return this.adapterHost.httpAdapter.reply(target.response, error.getResponse(), status);
      case 'graphql':
        // graphql-ws answers a refused token or role with its own close codes, 4401 and 4403.
        if (target.connection && (status === 401 || status === 403)) target.connection.end(error);
        return graphqlError(error);
      case 'ws':
        // Reached when an app adds this filter to a gateway (global filters skip gateways).
        return emitException(
          host.getArgByIndex(0),
          answerSocket(host.getArgs(), target.connection, error),
        );
      default:
        // RPC and other transports: their own exception handling sends the error on.
        return throwError(() => connectionErrorBody(error));
    }
  }

  private setHeaders(response: unknown, error: AuthError): void {
    const { httpAdapter } = this.adapterHost;
    const status: number = error.getStatus();
    if (status === 401) {
      const challenge =
        error instanceof InvalidTokenError
          ? `Bearer error="invalid_token", error_description="${error.message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`
          : 'Bearer';
      httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    }
    // A store outage is short-lived: tell clients when to come back instead of hammering.
    if (status === 503) httpAdapter.setHeader(response, 'Retry-After', '1');
    const { retryAfterSeconds } = error.getResponse() as { retryAfterSeconds?: number };
    if (status === 429 && retryAfterSeconds)
      httpAdapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
  }
}

/**
 * What GraphQL sends for an AuthError: graphql-js copies `extensions` from the error a resolver
 * throws, so no GraphQL package is needed here. The stack is the message alone: a refusal is
 * no crash, and servers that print stacks in development have none to print.
 */
function graphqlError(error: AuthError): Error {
  const { statusCode, code, message, ...extra } = error.getResponse() as {
    statusCode: number;
    code: string;
    message: string;
  };
  const answer = Object.assign(new Error(message), {
    extensions: { code, statusCode, ...extra },
  });
  answer.stack = `${code}: ${message}`;
  return answer;
}

type SocketClient = {
  emit?: (event: string, body: unknown) => void;
  send?: (data: string) => void;
  readyState?: number;
};

/** socket.io sockets emit; a plain WebSocket (it has a numeric readyState) is sent a JSON frame. */
function emitException(client: SocketClient, body: unknown): void {
  if (typeof client.readyState === 'number' && typeof client.send === 'function') {
    client.send(JSON.stringify({ event: 'exception', data: body }));
  } else if (typeof client.emit === 'function') {
    client.emit('exception', body);
  }
}

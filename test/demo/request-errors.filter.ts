import { Catch, HttpException, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { BODY_LIMIT_KB, JSON_ONLY, UTF8_ONLY } from './request-body';

/** Codes the demo adds for requests refused before they reach the library (not AuthErrorCodes). */
export type RequestErrorCode =
  | 'AUTH_REQUEST_INVALID'
  | 'REQUEST_TOO_LARGE'
  | 'REQUEST_UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST_REFUSED'
  | 'NOT_FOUND';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * Answers every 4xx that is not an AuthError (body-parser and Express errors, unknown routes,
 * Nest's own HttpExceptions) as `{ statusCode, code, message }`, like the library's errors.
 * The message is always one of ours: parser messages quote the body (`Unexpected token … in
 * "…"`), and a message that echoes input invites reflected content.
 *
 * AuthErrors never get here: the library's AuthExceptionFilter, registered after this one, is
 * asked first (see DemoModule), so their `WWW-Authenticate`, `Retry-After` and audit stay.
 * 5xx and non-HTTP errors go to Nest's base filter unchanged: a generic 500 "Internal server
 * error", logged, nothing leaked.
 */
@Catch()
export class RequestErrorsFilter extends BaseExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super(adapterHost.httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    // GraphQL answers errors itself (as GraphQL errors): hand them back to it.
    if (host.getType<string>() === 'graphql') throw exception;
    const status = exception instanceof HttpException ? exception.getStatus() : 0;
    if (status < 400 || status >= 500 || host.getType() !== 'http') {
      return super.catch(exception, host);
    }
    const body = this.bodyFor(exception as HttpException, status);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, body.statusCode);
  }

  private bodyFor(exception: HttpException, status: HttpStatus): ErrorBody {
    const response = exception.getResponse();
    // Already in our shape (the demo's 415, a coded error from elsewhere): kept as it is.
    if (typeof response === 'object' && typeof (response as ErrorBody).code === 'string') {
      return { ...(response as ErrorBody), statusCode: status };
    }
    // Parser errors reach Nest wrapped, the original as the cause: body-parser's (Express) carry
    // a `type`, Fastify's a `code`.
    const cause = exception.cause as { type?: unknown; code?: unknown } | undefined;
    const kind =
      cause?.type ?? cause?.code ?? (cause instanceof SyntaxError ? 'syntax' : undefined);
    const tooLarge = `The request body exceeds ${BODY_LIMIT_KB} kB`;
    switch (kind) {
      case 'entity.parse.failed':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'syntax':
        return coded(
          400,
          'AUTH_REQUEST_INVALID',
          'The request body must be a well-formed JSON object',
        );
      case 'entity.too.large':
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return coded(413, 'REQUEST_TOO_LARGE', tooLarge);
      case 'encoding.unsupported':
        return coded(
          415,
          'REQUEST_UNSUPPORTED_MEDIA_TYPE',
          'This Content-Encoding is not accepted',
        );
      case 'charset.unsupported':
        return coded(415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE', UTF8_ONLY);
    }
    switch (status) {
      case HttpStatus.BAD_REQUEST:
        return coded(status, 'AUTH_REQUEST_INVALID', 'The request is malformed');
      case HttpStatus.NOT_FOUND:
        return NOT_FOUND;
      case HttpStatus.PAYLOAD_TOO_LARGE:
        return coded(status, 'REQUEST_TOO_LARGE', tooLarge);
      case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
        return coded(status, 'REQUEST_UNSUPPORTED_MEDIA_TYPE', JSON_ONLY);
      default:
        return coded(status, 'REQUEST_REFUSED', 'The request was refused');
    }
  }
}

const coded = (statusCode: number, code: RequestErrorCode, message: string): ErrorBody => ({
  statusCode,
  code,
  message,
});

/** What a request for no route gets. */
export const NOT_FOUND = coded(404, 'NOT_FOUND', 'There is nothing at this path for this method');

import { HttpException, HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';

/** What a request with another body type is told. */
export const JSON_ONLY = 'Request bodies must be JSON: Content-Type: application/json';

/** Largest request body accepted, in kB: a login or refresh body is a few hundred bytes. */
export const BODY_LIMIT_KB = 16;

/**
 * Refuses a request body that is not `application/json` with a 415, before anything reads it.
 * Without this the JSON parser skips a form or text body, and the route then reports missing
 * fields, which hides the real mistake; and a form-encoded POST is what a cross-site HTML form
 * sends. No body at all (`Content-Length: 0`, as `fetch` and an empty form send) is fine, and so
 * is a chunked body with no Content-Type: Node's `http.request` sends a bare POST that way, and
 * what such a body holds is never parsed.
 */
export function requireJsonBody() {
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (!hasBody(request.headers) || request.is('application/json')) return next();
    next(
      new HttpException(
        {
          statusCode: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
          message: JSON_ONLY,
        },
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      ),
    );
  };
}

/** Whether a request carries a body to read: sized, or chunked with a type (see above). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const sized = Number(headers['content-length']) > 0;
  const chunked = headers['transfer-encoding'] !== undefined;
  return sized || (chunked && headers['content-type'] !== undefined);
}

import { HttpException, HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';

/** What a request with another body type is told. */
export const JSON_ONLY = 'Request bodies must be JSON: Content-Type: application/json';

/** What a request in another charset is told. */
export const UTF8_ONLY = 'Request bodies must be UTF-8 JSON';

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
    if (!hasBody(request.headers)) return next();
    if (!request.is('application/json')) return next(unsupported(JSON_ONLY));
    // body-parser decodes any `utf-*` it knows, UTF-7 and UTF-16 included: text that filters
    // reading UTF-8 in front of the app would not recognise.
    if (!isUtf8(request.headers['content-type'])) return next(unsupported(UTF8_ONLY));
    next();
  };
}

/** Whether a Content-Type's charset, if it names one, is UTF-8 (any case, quoted or not). */
export function isUtf8(contentType = ''): boolean {
  const charset = contentType
    .split(';')
    .slice(1)
    .map((param) => param.trim().toLowerCase())
    .find((param) => param.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"(.*)"$/, '$1');
  return charset === undefined || charset === 'utf-8';
}

const unsupported = (message: string) =>
  new HttpException(
    {
      statusCode: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
      message,
    },
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  );

/** Whether a request carries a body to read: sized, or chunked with a type (see above). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const sized = Number(headers['content-length']) > 0;
  const chunked = headers['transfer-encoding'] !== undefined;
  return sized || (chunked && headers['content-type'] !== undefined);
}

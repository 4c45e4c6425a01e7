import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer[ \t]+(.+?)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or null when
 * there is none. Whatever follows the scheme is returned, of any length, so the verifier can
 * refuse it with a precise code (two tokens or a huge one is a bad token, not a missing one).
 *
 * Node keeps only the first of several `Authorization` fields in `headers`; a proxy in front may
 * keep the last, so the two would authenticate different tokens. When `rawHeaders` shows more
 * than one and any is a bearer one, all are returned joined as one list (RFC 9110 section 5.3),
 * which is never a compact JWS: the request is refused as a malformed token, not half-read.
 */
export function extractBearerToken(request: {
  headers: IncomingHttpHeaders;
  rawHeaders?: readonly string[];
  /** Fastify's request: the Node request underneath. */
  raw?: { rawHeaders?: readonly string[] };
}): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const fields = authorizationFields(request.rawHeaders ?? request.raw?.rawHeaders);
  if (fields.length > 1 && fields.some((field) => BEARER.test(field))) {
    return fields.join(', ');
  }
  return BEARER.exec(header)?.[1] ?? null;
}

/** Every `Authorization` field value as sent, in order (`rawHeaders` is name, value, name, ...). */
function authorizationFields(rawHeaders: readonly string[] | undefined): string[] {
  const fields: string[] = [];
  if (!rawHeaders) return fields;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'authorization') fields.push(rawHeaders[i + 1] ?? '');
  }
  return fields;
}

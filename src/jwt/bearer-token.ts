import type { IncomingHttpHeaders } from 'node:http';

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
  if (fields.length > 1 && fields.some((field) => bearerCredentials(field) !== null)) {
    return fields.join(', ');
  }
  return bearerCredentials(header);
}

const isBlank = (code: number): boolean => code === 0x20 || code === 0x09;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * `Bearer`, any case, then spaces or tabs, then the credentials up to trailing blanks; null when
 * the scheme differs or nothing but blanks follows it. What `/^Bearer[ \t]+(.+?)[ \t]*$/i` reads,
 * scanned by hand: that lazy expression tried the end of the header at every character of the
 * token, on every request (the spec holds the two equal).
 */
function bearerCredentials(field: string): string | null {
  if (field.length < 8 || field.slice(0, 6).toLowerCase() !== 'bearer') return null;
  if (!isBlank(field.charCodeAt(6))) return null;
  let start = 7;
  while (start < field.length && isBlank(field.charCodeAt(start))) start++;
  let end = field.length;
  while (end > start && isBlank(field.charCodeAt(end - 1))) end--;
  const credentials = field.slice(start, end);
  return credentials && !LINE_BREAK.test(credentials) ? credentials : null;
}

/** Every `Authorization` field value as sent, in order (`rawHeaders` is name, value, name, ...). */
function authorizationFields(rawHeaders: readonly string[] | undefined): string[] {
  const fields: string[] = [];
  if (!rawHeaders) return fields;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    // The length first: no lower-cased copy of every other header's name.
    if (name?.length === 13 && name.toLowerCase() === 'authorization') {
      fields.push(rawHeaders[i + 1] ?? '');
    }
  }
  return fields;
}

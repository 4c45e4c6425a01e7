import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or null when
 * there is none. Any length is returned: the verifier refuses oversized tokens with a clear code.
 */
export function extractBearerToken(request: { headers: IncomingHttpHeaders }): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? null;
}

import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer[ \t]+(.+?)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or null when
 * there is none. Whatever follows the scheme is returned, of any length, so the verifier can
 * refuse it with a precise code (two tokens or a huge one is a bad token, not a missing one).
 */
export function extractBearerToken(request: { headers: IncomingHttpHeaders }): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? null;
}

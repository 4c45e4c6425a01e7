/**
 * The Redis key of each record, hash-tagged by user: `<prefix>{<sub>}:t:<jti>` (a revoked token),
 * `<prefix>{<sub>}:s:<sid>` (a session), `<prefix>{<sub>}:u` (the user's logout-everywhere mark).
 * What a command touches together is one token's three keys (the per-request MGET, rotation),
 * so one tag per user keeps each command in one Redis Cluster slot, and spreads users over the
 * slots. A tag per session would not do: the user's mark belongs to all of their sessions.
 */
export interface RevocationKeys {
  token(sub: string, jti: string): string;
  session(sub: string, sid: string): string;
  user(sub: string): string;
  /** A token's three keys, in the order the check and the rotation script read them. */
  of(token: { jti: string; sid: string; sub: string }): [string, string, string];
}

/**
 * A `sub` as it may stand in a tag: itself when plain, else `~` and the base64url of its UTF-16
 * code units (no braces; lossless for any string, lone surrogates too, which UTF-8 would merge).
 */
const SAFE_TAG = /^[\w.@+=-]{1,200}$/;
const tagOf = (sub: string): string =>
  SAFE_TAG.test(sub) ? sub : `~${Buffer.from(sub, 'utf16le').toString('base64url')}`;

export function revocationKeys(prefix: string): RevocationKeys {
  const keys: RevocationKeys = {
    token: (sub, jti) => `${prefix}{${tagOf(sub)}}:t:${jti}`,
    session: (sub, sid) => `${prefix}{${tagOf(sub)}}:s:${sid}`,
    user: (sub) => `${prefix}{${tagOf(sub)}}:u`,
    of: ({ jti, sid, sub }) => [keys.token(sub, jti), keys.session(sub, sid), keys.user(sub)],
  };
  return keys;
}

/**
 * A key of its own tag: `<prefix>{<name>}`, for keys another key must share a slot with
 * (a rate-limit counter and its block).
 */
export const taggedKey = (prefix: string, name: string): string => `${prefix}{${tagOf(name)}}`;

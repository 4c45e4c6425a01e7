import { REVOKED, type RotationResult, type Successor } from './revocation-store';

/**
 * The read-then-write steps of the Redis stores, written once as Lua over two functions, `get(key)`
 * (the live value or nil) and `put(key, value, ttlMs)` (a nil TTL keeps the key's own), so that the
 * plain Redis store and the cache-manager store (Keyv's JSON envelope around each value) run the
 * same logic. Each script is one atomic step: instances racing on one token see one outcome.
 * ARGV[1] is always the caller's clock in milliseconds.
 */
export interface RedisScripts {
  /** KEYS: token, session, user. ARGV: now, jti, next jti, ttl ms, issued-at ms, grace ms. */
  rotate: string;
  /** KEYS: session. ARGV: now, ttl ms. */
  revokeSession: string;
  /** KEYS: user. ARGV: now, before ms, ttl ms. */
  revokeUser: string;
}

/** Plain values, Redis's own TTLs. */
export const PLAIN_VALUES = `
local function get(key)
  return redis.call('GET', key) or nil
end
local function put(key, value, ttl)
  if ttl then redis.call('SET', key, value, 'PX', string.format('%d', ttl))
  else redis.call('SET', key, value, 'KEEPTTL') end
end`;

/** Keyv's envelope, `{"value":…,"expires":…}`, read and written exactly as Keyv does. */
export const KEYV_ENVELOPE = `
local now = tonumber(ARGV[1])
local function entry(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  local ok, decoded = pcall(cjson.decode, raw)
  if not ok or type(decoded) ~= 'table' then return nil end
  if type(decoded.expires) == 'number' and now > decoded.expires then return nil end
  return decoded
end
local function get(key)
  local found = entry(key)
  return found and found.value
end
local function put(key, value, ttl)
  local expires = now
  if ttl then expires = now + tonumber(ttl) else
    local found = entry(key)
    if found and found.expires then expires = found.expires end
  end
  local raw = '{"value":' .. cjson.encode(value) .. ',"expires":' .. string.format('%d', expires) .. '}'
  if ttl then redis.call('SET', key, raw, 'PX', string.format('%d', ttl))
  else redis.call('SET', key, raw, 'KEEPTTL') end
end`;

// A session record is the current refresh jti, or "current previous rotated-at-ms" after a
// rotation (see sessionRecord), or REVOKED.
const ROTATE = `
local now = tonumber(ARGV[1])
if get(KEYS[1]) then return {'revoked'} end
local mark = get(KEYS[3])
if mark and tonumber(ARGV[5]) <= tonumber(mark) then return {'revoked'} end
local record = get(KEYS[2])
if not record then return {'unknown'} end
if record == '${REVOKED}' then return {'revoked'} end
local current, previous, at = string.match(record, '^(%S+) (%S+) (%d+)$')
current = current or record
if current == ARGV[2] then
  put(KEYS[2], ARGV[3] .. ' ' .. ARGV[2] .. ' ' .. ARGV[1], ARGV[4])
  return {'rotated'}
end
local grace = tonumber(ARGV[6])
if previous == ARGV[2] and grace > 0 and now - tonumber(at) <= grace then
  return {'replayed', current, at}
end
put(KEYS[2], '${REVOKED}', nil)
return {'reused'}`;

// An existing session record already lives exactly as long as its newest refresh token.
const REVOKE_SESSION = `
if get(KEYS[1]) then
  put(KEYS[1], '${REVOKED}', nil)
  return 1
end
put(KEYS[1], '${REVOKED}', ARGV[2])
return 0`;

// The mark only moves forward, and lives as long as the longest of the two TTLs.
const REVOKE_USER = `
local current = tonumber(get(KEYS[1]) or 0)
local ttl = math.max(tonumber(ARGV[3]), redis.call('PTTL', KEYS[1]))
put(KEYS[1], string.format('%d', math.max(tonumber(ARGV[2]), current)), ttl)
return 1`;

/** The three scripts over one way of storing values. */
export const redisScripts = (values: string): RedisScripts => ({
  rotate: values + ROTATE,
  revokeSession: values + REVOKE_SESSION,
  revokeUser: values + REVOKE_USER,
});

/** A rotate script's reply as a RotationResult; `next` is what a fresh rotation hands out. */
export function rotationResult(reply: unknown, next: Successor): RotationResult {
  const [outcome, jti, at] = reply as [string, string?, string?];
  if (outcome === 'rotated') return { outcome, successor: next };
  if (outcome === 'replayed') return { outcome, successor: { jti: jti!, issuedAtMs: Number(at) } };
  return { outcome: outcome as 'reused' | 'revoked' | 'unknown' };
}

/**
 * Lua scripts of the Redis level. Each runs atomically, so "does my lease still hold?" and "store
 * the entry" cannot be split by a concurrent write, and a write's "revoke the lease" and "update
 * or drop the entry" cannot be split by a concurrent fill. Every script touches only keys of one
 * pk, which share a hash tag (Redis Cluster safe). TTLs are relative (PX, PEXPIRE), so the
 * app servers' clocks never need to agree with Redis's. Needs Redis >= 6.0 (KEEPTTL).
 */

/**
 * Fill a static entry if the lease holds.
 * KEYS: lease, data. ARGV: lease token, entry, TTL ms. Returns 1 if stored.
 */
export const FILL_STATIC = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * Fill an action entry (the complete row list) if the lease holds.
 * KEYS: lease, data. ARGV: lease token, meta member, TTL ms, then score/member pairs.
 */
export const FILL_ACTION = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('ZADD', KEYS[2], 'inf', ARGV[2])
local i = 4
while i <= #ARGV do
  local last = math.min(i + 199, #ARGV)
  redis.call('ZADD', KEYS[2], unpack(ARGV, i, last))
  i = last + 1
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

/**
 * Apply a durable write: revoke the lease, then
 * - ARGV[1] = 'drop':   delete the entry (write-around, set/map values);
 * - ARGV[1] = 'append': if the complete list is cached, ZADD the rows, trim to maxCount rows
 *   (ZREMRANGEBYRANK 0 -(maxCount+2): the +inf meta member is the one extra kept) and (P)EXPIRE.
 *   ARGV: 'append', maxCount, TTL ms, score/member pairs;
 * - ARGV[1] = 'single': if a value is cached and is not newer (or is negative), replace it,
 *   keeping its freshness header fields and TTL. ARGV: 'single', ts, msgpack payload.
 * KEYS: lease, data.
 */
export const APPLY_WRITE = `
redis.call('DEL', KEYS[1])
local mode = ARGV[1]
if mode == 'drop' then
  redis.call('DEL', KEYS[2])
  return 1
end
if mode == 'append' then
  if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
  local i = 4
  while i <= #ARGV do
    local last = math.min(i + 199, #ARGV)
    redis.call('ZADD', KEYS[2], unpack(ARGV, i, last))
    i = last + 1
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 2))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
if mode == 'single' then
  local cur = redis.call('GET', KEYS[2])
  if not cur then return 0 end
  local _, _, cts, csoft, cload = string.find(cur, '^([^|]*)|([^|]*)|([^|]*)|')
  if not cts then
    redis.call('DEL', KEYS[2])
    return 0
  end
  if cts ~= 'N' and tonumber(cts) > tonumber(ARGV[2]) then return 0 end
  redis.call('SET', KEYS[2], ARGV[2] .. '|' .. csoft .. '|' .. cload .. '|' .. ARGV[3], 'KEEPTTL')
  return 1
end
return redis.error_reply('unknown mode ' .. tostring(mode))
`;

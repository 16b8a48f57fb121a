"""The Lua scripts behind the live counters. Each runs atomically inside Redis.

Every key a script touches shares one tenant hash tag, so one script stays in one
Redis Cluster slot. The finish and sweep scripts reach a reservation's counter keys
through names stored in the reservation itself: same tag, hence the same slot as the
keys they were given.
"""

from __future__ import annotations

# Amounts are decimal strings of nano-USD. Lua numbers are doubles, exact only below
# 2**53 nano-USD (about $9M), and a cap may be as large as $1e9: so the limit check adds
# and compares digits. INCRBY/DECRBY themselves are exact 64-bit integers inside Redis.
_PRELUDE = r"""
local function norm(a)
  local stripped = string.gsub(a, '^0+', '')
  if stripped == '' then return '0' end
  return stripped
end

local function add(a, b)
  local reversed, carry = {}, 0
  local i, j = #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local d = carry
    if i > 0 then d = d + string.byte(a, i) - 48; i = i - 1 end
    if j > 0 then d = d + string.byte(b, j) - 48; j = j - 1 end
    if d >= 10 then d = d - 10; carry = 1 else carry = 0 end
    reversed[#reversed + 1] = d
  end
  local digits = {}
  for k = #reversed, 1, -1 do digits[#digits + 1] = reversed[k] end
  return norm(table.concat(digits))
end

local function fits(spent, reserved, amount, limit)
  if string.find(spent .. reserved .. amount .. limit, '-', 1, true) then
    -- The application never stores a negative amount; doubles are a safe fallback.
    return tonumber(spent) + tonumber(reserved) + tonumber(amount) <= tonumber(limit)
  end
  local total, cap = add(add(norm(spent), norm(reserved)), norm(amount)), norm(limit)
  if #total ~= #cap then return #total < #cap end
  return total <= cap
end

local function release(amount, reserved_keys)
  for _, key in ipairs(cjson.decode(reserved_keys)) do
    -- A counter gone (flushed, expired) stays gone: DECRBY would recreate it without a TTL.
    if redis.call('EXISTS', key) == 1 then
      if redis.call('DECRBY', key, amount) < 0 then
        redis.call('SET', key, '0', 'KEEPTTL')
      end
    end
  end
end
"""

# KEYS: reservation hash, tenant expiry index, then (spent, reserved) per limit.
# ARGV: id, amount, expiry score, hold ttl, counter ttl, reserved keys json, meta json,
#       then one limit per (spent, reserved) pair.
TRY_RESERVE = (
    _PRELUDE
    + r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return {'held'} end
local n = (#KEYS - 2) / 2
for i = 1, n do
  if redis.call('EXISTS', KEYS[1 + 2 * i]) == 0 then return {'absent'} end
end
local amount = ARGV[2]
for i = 1, n do
  local spent = redis.call('GET', KEYS[1 + 2 * i])
  local reserved = redis.call('GET', KEYS[2 + 2 * i]) or '0'
  if not fits(spent, reserved, amount, ARGV[7 + i]) then
    return {'refused', i, spent, reserved}
  end
end
for i = 1, n do
  redis.call('INCRBY', KEYS[2 + 2 * i], amount)
  redis.call('EXPIRE', KEYS[2 + 2 * i], ARGV[5])
end
redis.call('HSET', KEYS[1], 'amount', amount, 'rkeys', ARGV[6], 'meta', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {'ok'}
"""
)

# KEYS: reservation hash, tenant expiry index. ARGV: reservation id.
# Returns the reservation's meta, or nil when it is unknown or already finished.
FINISH = (
    _PRELUDE
    + r"""
local fields = redis.call('HMGET', KEYS[1], 'amount', 'rkeys', 'meta')
redis.call('ZREM', KEYS[2], ARGV[1])
if not fields[1] then return false end
release(fields[1], fields[2])
redis.call('DEL', KEYS[1])
return fields[3]
"""
)

# KEYS: tenant expiry index. ARGV: cutoff score, reservation key prefix, batch size.
# Returns {released, scanned}; scanned == batch size means there may be more.
SWEEP_TENANT = (
    _PRELUDE
    + r"""
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local released = 0
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  local fields = redis.call('HMGET', key, 'amount', 'rkeys')
  if fields[1] then
    release(fields[1], fields[2])
    redis.call('DEL', key)
    released = released + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
return {released, #ids}
"""
)

# KEYS: spent keys. ARGV: amounts. Absent keys stay absent (false -> nil).
ADD_SPENT = r"""
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCRBY', key, ARGV[i])
    out[i] = redis.call('GET', key)
  else
    out[i] = false
  end
end
return out
"""


# KEYS[1] spent key; ARGV[1] expected value ('' = absent), ARGV[2] new value, ARGV[3] TTL.
# Reconcile's compare-and-set: an increment that lands between reading the truth and
# writing it makes the values differ, and the stale truth is not written.
REPLACE_IF_UNCHANGED = """
local current = redis.call('GET', KEYS[1])
if (ARGV[1] == '' and not current) or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

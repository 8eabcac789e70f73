/**
 * The Lua scripts of the Redis backend. Each runs atomically inside Redis, so
 * "check who holds an id, then take it" can never interleave with another
 * instance doing the same (no WATCH retries, no lock keys), and the joins and
 * leaves it publishes happen in the same step as the change they describe.
 *
 * Presence expiry: every instance refreshes one score, its own entry in the
 * `instances` sorted set (Redis clock, so instance clocks do not matter), a
 * third of the expiry apart; refreshing is O(1) however many clients it holds.
 * An instance whose score is older than the expiry counts as dead: its ids can
 * be claimed again at once, and the first instance whose refresh finds it
 * (the `tick` script) removes its records and publishes `left` for each. Key
 * expiry per client would instead need a refresh per client and keyspace
 * notifications (off by default) to learn about expired ones.
 *
 * Keys are computed inside the scripts from the prefix, so this needs a single
 * Redis, not Redis Cluster (sharded).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

const COMMON = `
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local alive_cache = {}
local function alive(instance, now, ttl)
  local a = alive_cache[instance]
  if a == nil then
    local s = redis.call('ZSCORE', P .. 'instances', instance)
    a = s ~= false and tonumber(s) >= now - ttl
    alive_cache[instance] = a
  end
  return a
end
-- Every membership change gets the next version; full lists carry the current one.
local function room_event(t, id, instance, room)
  local v = redis.call('INCR', P .. 'version')
  redis.call('PUBLISH', P .. 'room:' .. room, cjson.encode({ t = t, id = id, i = instance, v = v }))
end
local function version()
  return tonumber(redis.call('GET', P .. 'version') or '0')
end
local function drop(id, instance, room)
  redis.call('DEL', P .. 'peer:' .. id)
  redis.call('SREM', P .. 'instance:' .. instance, id)
  redis.call('SREM', P .. 'room:' .. room, id)
  room_event('left', id, instance, room)
end
local function members(room, now, ttl, except)
  local out = {}
  local key = P .. 'room:' .. room
  for _, id in ipairs(redis.call('SMEMBERS', key)) do
    if id ~= except then
      local rec = redis.call('HMGET', P .. 'peer:' .. id, 'instance', 'room')
      if rec[1] == false or rec[2] ~= room then
        redis.call('SREM', key, id)
      elseif alive(rec[1], now, ttl) then
        out[#out + 1] = id
        out[#out + 1] = rec[1]
      end
    end
  end
  return out
end
`

/** ARGV: prefix, instance, ttl, id, room, token, signed ('1' | '0') → {'taken'} | {'claimed', version, id, instance, …}. */
const CLAIM = `
local iid, ttl, id, room, token, signed = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7] == '1'
local now = now_ms()
local pk = P .. 'peer:' .. id
local rec = redis.call('HMGET', pk, 'instance', 'token', 'room')
local owner, otoken, oroom = rec[1], rec[2], rec[3]
local live = owner ~= false and alive(owner, now, ttl)
if live and not signed then return { 'taken' } end
redis.call('HSET', pk, 'instance', iid, 'token', token, 'room', room)
redis.call('SADD', P .. 'instance:' .. iid, id)
if owner ~= false and owner ~= iid then redis.call('SREM', P .. 'instance:' .. owner, id) end
if oroom ~= false and oroom ~= room then
  redis.call('SREM', P .. 'room:' .. oroom, id)
  room_event('left', id, owner, oroom)
end
redis.call('SADD', P .. 'room:' .. room, id)
if owner ~= iid or oroom ~= room then room_event('joined', id, iid, room) end
if live and owner ~= iid then
  redis.call('PUBLISH', P .. 'instance:' .. owner, cjson.encode({ t = 'replaced', id = id, token = otoken }))
end
local out = { 'claimed', version() }
for _, v in ipairs(members(room, now, ttl, id)) do out[#out + 1] = v end
return out
`

/** ARGV: prefix, instance, id, token → 1 when this registration held the id. */
const RELEASE = `
local iid, id, token = ARGV[2], ARGV[3], ARGV[4]
local rec = redis.call('HMGET', P .. 'peer:' .. id, 'instance', 'token', 'room')
if rec[1] == iid and rec[2] == token then
  drop(id, iid, rec[3])
  return 1
end
return 0
`

/** ARGV: prefix, ttl, to, payload → receivers of the payload (0: nobody live holds `to`). */
const FORWARD = `
local owner = redis.call('HGET', P .. 'peer:' .. ARGV[3], 'instance')
if owner == false or not alive(owner, now_ms(), tonumber(ARGV[2])) then return 0 end
return redis.call('PUBLISH', P .. 'instance:' .. owner, ARGV[4])
`

/**
 * Publishes this instance's presence again (after a connect or reconnect):
 * ARGV: prefix, instance, ttl, n, then n × (id, room, token).
 * Drops records it holds that are not in the list; takes the listed ids unless
 * another live instance holds one (returned in `lost`, as id, token pairs).
 * → { lost, version, { room, { id, instance, … } }, … } for every listed room.
 */
const SYNC = `
local iid, ttl, n = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
redis.call('ZADD', P .. 'instances', now, iid)
local setkey = P .. 'instance:' .. iid
local listed = {}
for k = 0, n - 1 do listed[ARGV[5 + 3 * k]] = true end
for _, id in ipairs(redis.call('SMEMBERS', setkey)) do
  if listed[id] == nil then
    local rec = redis.call('HMGET', P .. 'peer:' .. id, 'instance', 'room')
    if rec[1] == iid then drop(id, iid, rec[2]) else redis.call('SREM', setkey, id) end
  end
end
local lost, rooms, order = {}, {}, {}
for k = 0, n - 1 do
  local id, room, token = ARGV[5 + 3 * k], ARGV[6 + 3 * k], ARGV[7 + 3 * k]
  local pk = P .. 'peer:' .. id
  local rec = redis.call('HMGET', pk, 'instance', 'token', 'room')
  local owner, otoken, oroom = rec[1], rec[2], rec[3]
  if owner ~= false and owner ~= iid and alive(owner, now, ttl) then
    lost[#lost + 1] = id
    lost[#lost + 1] = token
  else
    if owner ~= iid or otoken ~= token or oroom ~= room then
      redis.call('HSET', pk, 'instance', iid, 'token', token, 'room', room)
      if owner ~= false and owner ~= iid then redis.call('SREM', P .. 'instance:' .. owner, id) end
      if oroom ~= false and oroom ~= room then
        redis.call('SREM', P .. 'room:' .. oroom, id)
        room_event('left', id, owner, oroom)
      end
      if owner ~= iid or oroom ~= room then room_event('joined', id, iid, room) end
    end
    redis.call('SADD', setkey, id)
    redis.call('SADD', P .. 'room:' .. room, id)
    if rooms[room] == nil then
      rooms[room] = true
      order[#order + 1] = room
    end
  end
end
local out = { lost, version() }
for _, room in ipairs(order) do out[#out + 1] = { room, members(room, now, ttl, '') } end
return out
`

/**
 * Refreshes this instance's presence and sweeps dead instances:
 * ARGV: prefix, instance, ttl → { 1 if this instance was missing (swept, or Redis lost its data), ids swept }.
 */
const TICK = `
local iid, ttl = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local missing = redis.call('ZADD', P .. 'instances', now, iid)
local dead = redis.call('ZRANGEBYSCORE', P .. 'instances', '-inf', '(' .. string.format('%d', now - ttl), 'LIMIT', 0, 16)
local swept = 0
for _, d in ipairs(dead) do
  if d ~= iid then
    local setkey = P .. 'instance:' .. d
    for _, id in ipairs(redis.call('SMEMBERS', setkey)) do
      local rec = redis.call('HMGET', P .. 'peer:' .. id, 'instance', 'room')
      if rec[1] == d then
        drop(id, d, rec[2])
        swept = swept + 1
      end
    end
    redis.call('DEL', setkey)
    redis.call('ZREM', P .. 'instances', d)
  end
end
return { missing, swept }
`

/** ARGV: prefix, instance → drops every record this instance holds, and the instance (a clean stop). */
const RETIRE = `
local iid = ARGV[2]
local setkey = P .. 'instance:' .. iid
for _, id in ipairs(redis.call('SMEMBERS', setkey)) do
  local rec = redis.call('HMGET', P .. 'peer:' .. id, 'instance', 'room')
  if rec[1] == iid then drop(id, iid, rec[2]) end
end
redis.call('DEL', setkey)
redis.call('ZREM', P .. 'instances', iid)
return 1
`

/** A script sent once per Redis process: EVALSHA, and EVAL when Redis does not know it (after a restart). */
export class LuaScript {
  readonly sha: string

  constructor (readonly name: string, readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis, args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 0, ...args)
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err
      return redis.eval(this.source, 0, ...args)
    }
  }
}

export const SCRIPTS = {
  claim: new LuaScript('claim', COMMON + CLAIM),
  release: new LuaScript('release', COMMON + RELEASE),
  forward: new LuaScript('forward', COMMON + FORWARD),
  sync: new LuaScript('sync', COMMON + SYNC),
  tick: new LuaScript('tick', COMMON + TICK),
  retire: new LuaScript('retire', COMMON + RETIRE)
}

// Lua source of the transaction script. Redis Lua 5.1 has no SHA-256, so it is written
// here over the `bit` library (LuaBitOp: 32-bit signed results, wrap-around via tobit).
#include "integrations/redis/txn_script.hpp"

#include <string>

namespace auditbot {

namespace {

constexpr const char* kSha256Lua = R"lua(
local band, bor, bxor = bit.band, bit.bor, bit.bxor
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

-- Big-endian bytes of a 32-bit value (any sign; only the low 32 bits count).
local function be32(x)
  return string.char(band(rshift(x, 24), 255), band(rshift(x, 16), 255),
                     band(rshift(x, 8), 255), band(x, 255))
end

local function sha256_hex(msg)
  local len = #msg
  -- Bit length as two 32-bit halves without leaving exact double range.
  local hi = math.floor(len / 0x20000000)
  local lo = (len % 0x20000000) * 8
  msg = msg .. '\128' .. string.rep('\0', (55 - len) % 64) .. be32(hi) .. be32(lo)

  local h0, h1, h2, h3 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
  local h4, h5, h6, h7 = 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  local w = {}
  for p = 1, #msg, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = string.byte(msg, p + i * 4, p + i * 4 + 3)
      w[i] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
    end
    for i = 16, 63 do
      local x, y = w[i - 15], w[i - 2]
      local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
      local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for i = 0, 63 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(g, band(e, bxor(f, g)))  -- (e and f) or (not e and g), fewer calls
      local t1 = h + S1 + ch + K[i + 1] + w[i]
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bor(band(a, b), band(c, bor(a, b)))
      local t2 = S0 + maj
      h = g
      g = f
      f = e
      e = tobit(d + t1)
      d = c
      c = b
      b = a
      a = tobit(t1 + t2)
    end
    h0 = tobit(h0 + a)
    h1 = tobit(h1 + b)
    h2 = tobit(h2 + c)
    h3 = tobit(h3 + d)
    h4 = tobit(h4 + e)
    h5 = tobit(h5 + f)
    h6 = tobit(h6 + g)
    h7 = tobit(h7 + h)
  end
  return tohex(h0) .. tohex(h1) .. tohex(h2) .. tohex(h3) ..
         tohex(h4) .. tohex(h5) .. tohex(h6) .. tohex(h7)
end
)lua";

constexpr const char* kTransactionLua = R"lua(
local txn = cjson.decode(ARGV[1])
local ops = txn.ops

-- 1. Preconditions: all checked before anything is written.
for _, op in ipairs(ops) do
  local t = op.op
  if t == 'claim' then
    if redis.call('EXISTS', KEYS[op.k]) == 1 then return {'duplicate'} end
  elseif t == 'expect_field' then
    local v = redis.call('HGET', KEYS[op.k], op.f)
    if not v then v = '' end
    if v ~= op.v then return {'conflict', op.why} end
  elseif t == 'exists' then
    if redis.call('EXISTS', KEYS[op.k]) == 0 then return {'conflict', op.why} end
  elseif t == 'absent' then
    if redis.call('EXISTS', KEYS[op.k]) == 1 then return {'conflict', op.why} end
  end
end

-- 2. Writes, in the order they were added.
for _, op in ipairs(ops) do
  local t = op.op
  if t == 'claim' then
    redis.call('SET', KEYS[op.k], '1', 'EX', op.ttl)
  elseif t == 'hset' then
    if #op.fv > 0 then redis.call('HSET', KEYS[op.k], unpack(op.fv)) end
  elseif t == 'hdel' then
    if #op.f > 0 then redis.call('HDEL', KEYS[op.k], unpack(op.f)) end
  elseif t == 'zadd' then
    redis.call('ZADD', KEYS[op.k], op.s, op.m)
  elseif t == 'zrem' then
    redis.call('ZREM', KEYS[op.k], op.m)
  elseif t == 'sadd' then
    redis.call('SADD', KEYS[op.k], op.m)
  elseif t == 'srem' then
    redis.call('SREM', KEYS[op.k], op.m)
  elseif t == 'rpush' then
    redis.call('RPUSH', KEYS[op.k], op.v)
  elseif t == 'del' then
    redis.call('DEL', KEYS[op.k])
  end
end

-- 3. Audit entries, each chained to the one before it. When the caller's view of the head
-- (txn.hint) is still current, it has already hashed each entry (op.h) exactly as below;
-- otherwise the hash is computed here.
local result = {'committed', ''}
local head = KEYS[txn.head]
local trust_hint = false
if txn.hint then
  local cur = redis.call('HMGET', head, 'seq', 'hash')
  trust_hint = (cur[1] or '0') == txn.hint.seq and (cur[2] or string.rep('0', 64)) == txn.hint.hash
end
for _, op in ipairs(ops) do
  if op.op == 'audit' then
    local seq = redis.call('HINCRBY', head, 'seq', 1)
    local prev = redis.call('HGET', head, 'hash')
    if not prev then prev = string.rep('0', 64) end
    local seqs = tostring(seq)
    local hash = op.h
    if not (trust_hint and hash) then
      hash = sha256_hex(seqs .. '\n' .. txn.ts .. '\n' .. op.actor .. '\n' .. op.action .. '\n' ..
                        op.item .. '\n' .. op.detail .. '\n' .. prev)
    end
    redis.call('XADD', KEYS[txn.audit], '*', 'seq', seqs, 'ts', txn.ts, 'actor', op.actor,
               'action', op.action, 'item', op.item, 'detail', op.detail, 'prev', prev,
               'hash', hash)
    redis.call('HSET', head, 'seq', seqs, 'hash', hash)
    result[2] = hash
    result[#result + 1] = seq
  end
end

-- 4. Outbox messages.
for _, op in ipairs(ops) do
  if op.op == 'send' then
    redis.call('XADD', KEYS[txn.outbox], '*', 'id', op.id, 'message', op.message)
  end
end

return result
)lua";

}  // namespace

const redis::Script& transaction_script() {
  static const redis::Script script(std::string(kSha256Lua) + kTransactionLua);
  return script;
}

const redis::Script& lua_sha256_script() {
  static const redis::Script script(std::string(kSha256Lua) + "\nreturn sha256_hex(ARGV[1])\n");
  return script;
}

}  // namespace auditbot

-- aigw: counts a batch of usage records, exactly once (aigw_record.h)
local prefix, ttl = ARGV[1], tonumber(ARGV[2])
local cap, ns = tonumber(ARGV[3]), tonumber(ARGV[4])
local fields = {'requests', 'input_tokens', 'output_tokens',
  'cache_read_input_tokens', 'cache_write_input_tokens', 'images',
  'errors', 'throttled', 'latency_ms_sum', 'cost_nanousd'}
local VMAX, LIMIT = 8796093022208, 4e18
if not ttl or not cap or not ns or ns < 1 or (#ARGV - 4 - ns) % 16 ~= 0 then
  return redis.error_reply('ERR aigw: malformed batch')
end
local streams, mark, moved = {}, {}, {}
for s = 1, ns do
  streams[s] = ARGV[4 + s]
  mark[s] = tonumber(redis.call('GET', prefix .. ':seq:' .. streams[s]) or 0)
end
local function num(v)
  if #v > 13 or not string.find(v, '^%d+$') then return nil end
  local x = tonumber(v)
  if x > VMAX then return nil end
  return x
end
local function bucket(m)
  return m == '_invalid' or m == '_other'
end
-- everything is checked before anything is written
local sums, keys, members, days, tenants = {}, {}, {}, {}, {}
local have, bad, indexed, count = {}, {}, {}, {}
local out, applied, r = {0}, 0, 0
for i = 5 + ns, #ARGV, 16 do
  r = r + 1
  local s, seq = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if not s or not mark[s] or not seq then
    return redis.error_reply('ERR aigw: malformed record ' .. r)
  end
  if seq > mark[s] then
    mark[s], moved[s] = seq, true
    local day, tenant, model, class = ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
      ARGV[i + 5]
    local v, why = {}, nil
    for f = 1, 10 do
      v[f] = num(ARGV[i + 5 + f])
      if not v[f] then why = 'counter ' .. fields[f] .. ' out of range' end
    end
    if not string.find(day, '^%d%d%d%d%-%d%d%-%d%d$') then
      why = 'bad day'
    elseif not string.find(tenant, '^[%w_.-]+$') or model == '' then
      why = 'bad tenant or model'
    elseif class ~= '' and not string.find(class, '^[%w_.-]+:[%w_.-]+$') then
      why = 'bad image class'
    end
    if not why and cap > 0 and not bucket(model) then
      local idx = prefix .. ':usage:' .. day .. ':index'
      local member = tenant .. ':' .. model
      local known = indexed[idx .. ' ' .. member]
      if known == nil then
        known = redis.call('SISMEMBER', idx, member) == 1
      end
      if not known then
        local tk = day .. ' ' .. tenant
        local c = count[tk] or tonumber(redis.call('HGET',
          prefix .. ':models:' .. day, tenant) or 0)
        if c >= cap then
          model = '_other'
        else
          count[tk], known = c + 1, true
        end
      end
      indexed[idx .. ' ' .. member] = known
    end
    local member = tenant .. ':' .. model
    local key = prefix .. ':usage:' .. day .. ':' .. member
    if not why and have[key] == nil then
      local cur = redis.pcall('HMGET', key, unpack(fields))
      if cur.err then
        bad[key] = cur.err
        have[key] = false
      else
        for f = 1, 10 do cur[f] = tonumber(cur[f]) or 0 end
        have[key] = cur
      end
    end
    if not why and bad[key] then why = bad[key] end
    local acc = sums[key]
    if not why then
      local cur = have[key]
      for f = 1, 10 do
        if cur[f] + (acc and acc[f] or 0) + v[f] > LIMIT then
          why = 'field ' .. fields[f] .. ' would overflow'
        end
      end
    end
    if not why and class ~= '' then
      local ck = key .. ' ' .. class
      if have[ck] == nil then
        local c = redis.pcall('HGET', key, 'images:' .. class)
        have[ck] = type(c) == 'string' and tonumber(c) or 0
      end
      if have[ck] + (acc and acc.classes[class] or 0) + v[6] > LIMIT then
        why = 'field images:' .. class .. ' would overflow'
      end
    end
    if why then
      out[#out + 1], out[#out + 2] = r, why
    else
      if acc == nil then
        acc = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, classes = {}}
        sums[key] = acc
        keys[#keys + 1] = key
        members[key], days[key] = member, day
        tenants[key] = (not bucket(model)) and tenant or nil
      end
      for f = 1, 10 do acc[f] = acc[f] + v[f] end
      if class ~= '' then
        acc.classes[class] = (acc.classes[class] or 0) + v[6]
      end
      applied = applied + 1
    end
  end
end
for _, key in ipairs(keys) do
  local acc = sums[key]
  for f = 1, 10 do
    if acc[f] ~= 0 then
      redis.call('HINCRBY', key, fields[f], string.format('%.0f', acc[f]))
    end
  end
  for class, n in pairs(acc.classes) do
    redis.call('HINCRBY', key, 'images:' .. class, string.format('%.0f', n))
  end
  local idx = prefix .. ':usage:' .. days[key] .. ':index'
  if redis.call('SADD', idx, members[key]) == 1 and tenants[key] then
    local mk = prefix .. ':models:' .. days[key]
    redis.call('HINCRBY', mk, tenants[key], 1)
    redis.call('EXPIRE', mk, ttl)
  end
end
for s = 1, ns do
  if moved[s] then
    redis.call('SET', prefix .. ':seq:' .. streams[s], mark[s], 'EX', ttl)
  end
end
out[1] = applied
return out

-- aigw: limits and budgets across gateways (aigw_limits.h): one claim of
-- one gateway instance for the subjects of a request (its tenant, and its
-- key when the key has limits of its own), atomic.
--
-- KEYS[s]: the hash of subject s.  Per instance i it holds
--   i:<i>  "ver expiry_ms q_rpm q_tpm q_day q_month
--           day d_used d_settled month m_used m_settled"
--   w:<i>  the instance's window, "sec:requests:tokens,..."
-- and a:<period>:<threshold> for the alerts already sent.  An instance's
-- quota q_k caps its own usage of resource k; the others see
-- max(quota, usage) of an instance whose lease is live (or lapsed less
-- than the grace ago: it may not have reported its last draws); after
-- that its window and its settled spend, not its reservations (an
-- instance renews its lease while requests of its run).  Usage is
-- absolute: a retried claim changes nothing.
local prefix, inst, ver = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
local day, month = ARGV[6], ARGV[7]
local day_left, month_left = tonumber(ARGV[8]), tonumber(ARGV[9])
local stamp, nsub = ARGV[10], tonumber(ARGV[11])
if not ver or not now or not grace or not day_left or not month_left
   or not nsub or nsub ~= #KEYS then
  return redis.error_reply('ERR aigw: malformed claim')
end
local nowsec = math.floor(now / 1000)
local function win(s)
  local r, t, b = 0, 0, {}
  for sec, rr, tt in string.gmatch(s or '', '(%d+):(%d+):(%d+)') do
    sec = tonumber(sec)
    if sec > nowsec - 60 and sec <= nowsec then
      r, t = r + tonumber(rr), t + tonumber(tt)
      b[sec] = {tonumber(rr), tonumber(tt)}
    end
  end
  return r, t, b
end
local function split(s)
  local v = {}
  for x in string.gmatch(s, '%S+') do v[#v + 1] = x end
  return v
end
local subj, a, stale, refused = {}, 12, false, 0
for s = 1, nsub do
  local S = {key = KEYS[s]}
  S.tenant, S.kid = ARGV[a], ARGV[a + 1]
  S.lease = tonumber(ARGV[a + 2])
  S.lim, S.need, S.slack = {}, {}, {}
  for k = 1, 4 do S.lim[k] = tonumber(ARGV[a + 2 + k]) end
  S.du, S.ds = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8])
  S.mu, S.ms = tonumber(ARGV[a + 9]), tonumber(ARGV[a + 10])
  S.win = ARGV[a + 11]
  for k = 1, 3 do
    S.need[k] = tonumber(ARGV[a + 11 + k])
    S.slack[k] = tonumber(ARGV[a + 14 + k])
  end
  S.need[4], S.slack[4] = S.need[3], S.slack[3]
  local na = tonumber(ARGV[a + 18])
  if not S.lease or not S.du or not S.ds or not S.mu or not S.ms or not na
     or not S.need[1] or not S.need[2] or not S.need[3] then
    return redis.error_reply('ERR aigw: malformed subject ' .. s)
  end
  S.alerts = {}
  a = a + 19
  for n = 1, na do
    S.alerts[n] = {ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])}
    a = a + 3
  end
  subj[s] = S
end
-- what the others hold, and the windows, per subject
for s = 1, nsub do
  local S = subj[s]
  -- a key of another type is not ours to fix: the claim fails, whole
  local h = redis.call('HGETALL', S.key)
  local iv, wv, mine = {}, {}, {}
  S.oth = {0, 0, 0, 0}
  S.held = {0, 0}                       -- others' unused window quota
  S.settled = {0, 0}
  S.secs = {}
  S.dead = {}
  S.flags = {}
  for f = 1, #h, 2 do
    local kind, who = string.match(h[f], '^(%a):(.*)$')
    if kind == 'i' then
      iv[who] = h[f + 1]
    elseif kind == 'w' then
      wv[who] = h[f + 1]
    elseif kind == 'a' then
      S.flags[#S.flags + 1] = who
    end
  end
  for who, val in pairs(iv) do
    local v = split(val)
    if who == inst then
      mine = v
    else
      local e = tonumber(v[2]) or 0
      local live = now <= e + grace
      local r, t, b = win(wv[who])
      for sec, rt in pairs(b) do
        local c = S.secs[sec] or {0, 0}
        S.secs[sec] = {c[1] + rt[1], c[2] + rt[2]}
      end
      -- a gateway gone silent: its spend stays, its running
      -- reservations (which it would have renewed) go
      local u = {r, t, 0, 0}
      local ds, ms = tonumber(v[9]) or 0, tonumber(v[12]) or 0
      if v[7] == day then
        u[3] = live and (tonumber(v[8]) or 0) or ds
        S.settled[1] = S.settled[1] + ds
      end
      if v[10] == month then
        u[4] = live and (tonumber(v[11]) or 0) or ms
        S.settled[2] = S.settled[2] + ms
      end
      for k = 1, 4 do
        local q = tonumber(v[2 + k]) or 0
        if live and q > u[k] then
          S.oth[k] = S.oth[k] + q
          if k <= 2 then S.held[k] = S.held[k] + q - u[k] end
        else
          S.oth[k] = S.oth[k] + u[k]
        end
      end
      if not live and v[7] ~= day and v[10] ~= month and r == 0 then
        S.dead[#S.dead + 1] = who
      end
    end
  end
  local mv = tonumber(mine[1] or '')
  if mv and mv >= ver then stale = true end
  -- this instance's usage as it reports it
  local r, t, b = win(S.win)
  for sec, rt in pairs(b) do
    local c = S.secs[sec] or {0, 0}
    S.secs[sec] = {c[1] + rt[1], c[2] + rt[2]}
  end
  S.use = {r, t, S.du, S.mu}
  S.settled[1] = S.settled[1] + S.ds
  S.settled[2] = S.settled[2] + S.ms
  S.code, S.retry = 0, 0
  for k = 1, 4 do
    local L = S.lim[k]
    if L and L >= 0 and S.need[k] > 0
       and S.use[k] + S.need[k] > L - S.oth[k] then
      S.code = k
      break
    end
  end
  if S.code > 0 then refused = refused + 1 end
end
if stale then
  return {5}
end
-- Retry-After: when the window or the period frees enough
local function retry(S)
  local k, L = S.code, S.lim[S.code]
  local need = S.need[k]
  if k <= 2 then
    if need > L then return 60 end
    local total = 0
    for sec, rt in pairs(S.secs) do total = total + rt[k] end
    local over = total + S.held[k] + need - L
    for sec = nowsec - 59, nowsec do
      local c = S.secs[sec]
      if c then
        over = over - c[k]
        if over <= 0 then return sec + 60 - nowsec end
      end
    end
    return 5
  end
  local left = (k == 3) and day_left or month_left
  if need > L or S.settled[k - 2] + need > L then return left end
  return math.min(left, 5)
end
local out = {}
for s = 1, nsub do
  local S = subj[s]
  local q = {}
  for k = 1, 4 do
    local L = S.lim[k]
    if not L or L < 0 then
      q[k] = -1
    elseif refused > 0 then
      q[k] = S.use[k]
    else
      local room = L - S.oth[k] - S.use[k] - S.need[k]
      local extra = math.min(S.slack[k] or 0, math.floor(room / 2))
      if extra < 0 then extra = 0 end
      q[k] = S.use[k] + S.need[k] + extra
    end
  end
  if S.code > 0 then S.retry = retry(S) end
  redis.call('HSET', S.key, 'i:' .. inst, table.concat({ver,
    now + S.lease, q[1], q[2], q[3], q[4], day, S.du, S.ds, month, S.mu,
    S.ms}, ' '), 'w:' .. inst, S.win)
  for _, who in ipairs(S.dead) do
    redis.call('HDEL', S.key, 'i:' .. who, 'w:' .. who)
  end
  -- alerts: once per threshold and period, whichever gateway sees it
  local fired = {}
  for _, al in ipairs(S.alerts) do
    for p = 1, 2 do
      local amt, L = al[1 + p], S.lim[2 + p]
      if amt and amt >= 0 and L and L >= 0 and S.settled[p] >= amt then
        local period = (p == 1) and 'daily' or 'monthly'
        local start = (p == 1) and day or (month .. '-01')
        local flag = 'a:' .. start .. ':' .. period .. ':' .. al[1]
        if redis.call('HSETNX', S.key, flag, 1) == 1 then
          local sp = S.settled[p]
          local function usd(x)
            local s = string.format('%d.%09d', math.floor(x / 1e9), x % 1e9)
            s = string.gsub(s, '0+$', '')
            return (string.gsub(s, '%.$', ''))
          end
          local e = {'tenant', S.tenant}
          if S.kid ~= '' then e[#e + 1] = 'key'; e[#e + 1] = S.kid end
          for _, x in ipairs({'period', period, 'period_start', start,
                              'threshold', al[1], 'spend_usd', usd(sp),
                              'limit_usd', usd(L), 'time', stamp}) do
            e[#e + 1] = x
          end
          -- a stream key of another type loses the entry, not the claim
          redis.pcall('XADD', prefix .. ':alerts', 'MAXLEN', '~', 10000, '*',
                      unpack(e))
          fired[#fired + 1] = {period, al[1], sp}
        end
      end
    end
  end
  -- the flags of past periods go
  for _, f in ipairs(S.flags) do
    local start = string.match(f, '^([%d-]+):')
    if start ~= day and start ~= month .. '-01' then
      redis.call('HDEL', S.key, 'a:' .. f)
    end
  end
  redis.call('PEXPIRE', S.key, 40 * 86400000)
  local rem = {-1, -1}
  for p = 1, 2 do
    local L = S.lim[2 + p]
    if L and L >= 0 then rem[p] = math.max(0, L - S.settled[p]) end
  end
  out[s] = {S.code, S.retry, q[1], q[2], q[3], q[4], rem[1], rem[2], fired}
end
return out

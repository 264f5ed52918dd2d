-- Scenario 3: refresh-token rotation over many grants. BENCH_GRANTS is a file with the newest
-- refresh token of each pre-created grant, one a line. Each connection takes its share of the
-- grants and walks through them; every answer's refresh_token replaces the one just spent (so
-- the newest token of each grant is always the one sent). After the run the file is rewritten
-- with the newest tokens, leaving out a grant whose request was still in flight when wrk
-- stopped (the server may or may not have rotated it: sending it again would be a replay) and
-- any grant whose refresh failed. Env: BENCH_TOKEN_PATH, BENCH_GRANTS, BENCH_CLIENT_ID/SECRET.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

grants, pending = nil, 0
local i, auth, path = 0, nil, nil

function thread_init()
  grants = my_slice(read_lines(env("BENCH_GRANTS")), tid, nthreads)
  auth, path = basic_auth(), env("BENCH_TOKEN_PATH")
end

function next_request()
  if #grants == 0 then
    wrk.thread:stop()
    return wrk.format("GET", "/.well-known/openid-configuration")
  end
  for _ = 1, #grants do
    i = i % #grants + 1
    if grants[i] ~= false then break end
  end
  if grants[i] == false then
    -- Every grant of this connection is broken (each counted as an error already): stop it.
    wrk.thread:stop()
    return wrk.format("GET", "/.well-known/openid-configuration")
  end
  pending = i
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, "grant_type=refresh_token&refresh_token=" .. urlencode(grants[pending]))
end

function check(status, headers, body)
  if pending == 0 then return true, false end
  local index = pending
  pending = 0
  local newest = status == 200 and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if newest and string.find(body, '"access_token"', 1, true) then
    grants[index] = newest
    return true, true
  end
  grants[index] = false  -- this grant's chain is broken; leave it out from now on
  return false, false
end

local all_grants = {}

function thread_report(thread)
  local mine, in_flight = thread:get("grants"), thread:get("pending")
  for index, token in ipairs(mine) do
    if token ~= false and index ~= in_flight then all_grants[#all_grants + 1] = token end
  end
end

function report_extra(out)
  local file = assert(io.open(env("BENCH_GRANTS"), "w"))
  file:write(table.concat(all_grants, "\n"), "\n")
  file:close()
  out[#out + 1] = string.format('"grants_left": %d', #all_grants)
end

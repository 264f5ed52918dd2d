-- Scenario 4: authorization-code redemption. BENCH_CODES is a file of codes minted through the
-- real flow just before the run, one a line; each connection redeems its share once each, in
-- order, and stops when it has none left (the harness mints enough for the run and reruns with
-- more if a connection ran dry). Env: BENCH_TOKEN_PATH, BENCH_CODES, BENCH_REDIRECT_URI,
-- BENCH_CLIENT_ID/SECRET.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

exhausted = false
local codes, i, auth, path, redirect = nil, 0, nil, nil, nil

function thread_init()
  codes = my_slice(read_lines(env("BENCH_CODES")), tid, nthreads)
  auth, path = basic_auth(), env("BENCH_TOKEN_PATH")
  redirect = urlencode(env("BENCH_REDIRECT_URI"))
end

function next_request()
  i = i + 1
  if i > #codes then
    -- Out of codes: stop this connection (a cheap GET is sent if wrk asks once more).
    exhausted = true
    wrk.thread:stop()
    return wrk.format("GET", "/.well-known/openid-configuration")
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, "grant_type=authorization_code&code=" .. urlencode(codes[i]) .. "&redirect_uri=" .. redirect)
end

function check(status, headers, body)
  if exhausted then return true, false end
  local ok = status == 200 and string.find(body, '"access_token"', 1, true) ~= nil
    and string.find(body, '"refresh_token"', 1, true) ~= nil
  if ok and i >= #codes then
    exhausted = true
    wrk.thread:stop()
  end
  return ok, ok
end

local dry = 0

function thread_report(thread)
  if thread:get("exhausted") then dry = dry + 1 end
end

function report_extra(out)
  out[#out + 1] = string.format('"connections_out_of_codes": %d', dry)
end

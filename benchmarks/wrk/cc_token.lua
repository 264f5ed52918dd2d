-- Scenario 1: a client-credentials token (grant_type=client_credentials, scope maps), the
-- client authenticated with HTTP Basic. Env: BENCH_TOKEN_PATH, BENCH_CLIENT_ID/SECRET.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local req

function thread_init()
  req = wrk.format("POST", env("BENCH_TOKEN_PATH"), {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = basic_auth(),
  }, "grant_type=client_credentials&scope=maps")
end

function next_request() return req end

function check(status, headers, body)
  local ok = status == 200 and string.find(body, '"access_token"', 1, true) ~= nil
  return ok, ok
end

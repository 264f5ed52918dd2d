-- Scenario 2: introspection of valid access tokens (a pool, one per pre-created grant) by the
-- client they were issued to (HTTP Basic). Env: BENCH_INTROSPECT_PATH, BENCH_TOKENS (a file,
-- one access token a line), BENCH_CLIENT_ID/SECRET.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tokens, i, auth, path = nil, 0, nil, nil

function thread_init()
  tokens = my_slice(read_lines(env("BENCH_TOKENS")), tid, nthreads)
  auth, path = basic_auth(), env("BENCH_INTROSPECT_PATH")
end

function next_request()
  i = i % #tokens + 1
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, "token=" .. urlencode(tokens[i]) .. "&token_type_hint=access_token")
end

function check(status, headers, body)
  local ok = status == 200 and string.find(body, '"active"%s*:%s*true') ~= nil
  return ok, ok
end

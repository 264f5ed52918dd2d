-- Scenario 5: a bearer-protected GET (ours /users/me, the peer's userinfo /me), round-robin over
-- a pool of access tokens. Env: BENCH_PATH, BENCH_TOKENS (one access token a line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tokens, i, path = nil, 0, nil

function thread_init()
  tokens = my_slice(read_lines(env("BENCH_TOKENS")), tid, nthreads)
  path = env("BENCH_PATH")
end

function next_request()
  i = i % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[i] })
end

function check(status, headers, body)
  local ok = status == 200
  return ok, ok
end

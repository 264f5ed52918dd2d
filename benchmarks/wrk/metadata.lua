-- Scenario 6: the public metadata GETs, alternating: the JWKS and the OpenID Connect discovery
-- document. Env: BENCH_PATHS (comma-separated paths).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local paths, i = {}, 0

function thread_init()
  for p in string.gmatch(env("BENCH_PATHS"), "[^,]+") do paths[#paths + 1] = p end
  i = tid  -- threads start on different paths
end

function next_request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function check(status, headers, body)
  local ok = status == 200 and #body > 0
  return ok, ok
end

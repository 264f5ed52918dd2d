-- Scenario 8: password sign-in, two requests per sign-in on each side, each from a fresh
-- browser (no cookie):
--   ours: GET /signin (sets a form cookie, no session row; the page carries its CSRF token)
--         POST /signin with that cookie, csrf_token, login and password -> 303
--   peer: GET /auth?… (opens an interaction; 303 to /interaction/UID, whose cookie value is UID)
--         POST /interaction/UID/login with that cookie, login and password -> 303
-- Env: BENCH_KIND (ours|peer), BENCH_LOGIN, BENCH_PASSWORD, BENCH_AUTH_QUERY (peer).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local kind, login, password, auth_query
local step, cookie, csrf, uid = "get", nil, nil, nil

function thread_init()
  kind, login, password = env("BENCH_KIND"), env("BENCH_LOGIN"), env("BENCH_PASSWORD")
  if kind == "peer" then auth_query = env("BENCH_AUTH_QUERY") end
end

function next_request()
  local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  local credentials = "login=" .. urlencode(login) .. "&password=" .. urlencode(password)
  if step == "get" then
    if kind == "ours" then return wrk.format("GET", "/signin?next=%2F") end
    return wrk.format("GET", auth_query)
  end
  if kind == "ours" then
    form["Cookie"] = cookie
    return wrk.format("POST", "/signin", form,
      "csrf_token=" .. urlencode(csrf) .. "&next=%2F&" .. credentials)
  end
  form["Cookie"] = "_interaction=" .. uid
  return wrk.format("POST", "/interaction/" .. uid .. "/login", form, credentials)
end

function check(status, headers, body)
  if step == "get" then
    if kind == "ours" then
      local set_cookie = header(headers, "Set-Cookie")
      cookie = set_cookie and string.match(set_cookie, "^([^;]+)")
      csrf = string.match(body, 'name="csrf_token" value="([^"]*)"')
      if status ~= 200 or not cookie or not csrf then return false, false end
    else
      local location = header(headers, "Location")
      uid = location and string.match(location, "/interaction/([%w_%-]+)$")
      if status ~= 303 or not uid then return false, false end
    end
    step = "post"
    return true, false
  end
  step = "get"
  local location = header(headers, "Location") or ""
  if kind == "ours" then
    local ok = status == 303 and location == "/"
    return ok, ok
  end
  local ok = status == 303 and string.find(location, "/auth/" .. uid, 1, true) ~= nil
  return ok, ok
end

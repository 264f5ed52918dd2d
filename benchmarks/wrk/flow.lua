-- Scenario 7: a full browser flow per iteration, for a browser that is already signed in (its
-- session cookie comes from BENCH_SESSIONS, line tid, made by the harness just before the run):
-- authorise with prompt=consent (so the consent page is shown every time), Allow, then redeem
-- the code at the token endpoint. One operation = one whole flow; its latency is measured here.
--   ours: GET /oauth/auth?…&prompt=consent                  -> 200 consent page (hidden fields)
--         POST /oauth/auth/decision (csrf_token, request, decision=allow) -> 303 …/cb?code=…
--         POST /oauth/token (authorization_code)              -> 200 tokens
--   peer: GET /auth?…&prompt=consent                        -> 303 /interaction/UID
--         GET /interaction/UID (the consent page)             -> 200
--         POST /interaction/UID/confirm                       -> 303 /auth/UID
--         GET /auth/UID                                       -> 303 …/cb?code=… (new _session)
--         POST /token (authorization_code)                    -> 200 tokens
-- The peer's interaction cookies hold the interaction id (UID, from the Location header); its
-- session cookie is replaced on every resume, and is the last Set-Cookie of that answer (the one
-- wrk keeps). Env: BENCH_KIND, BENCH_SESSIONS, BENCH_AUTH_QUERY (with prompt=consent),
-- BENCH_TOKEN_PATH, BENCH_REDIRECT_URI, BENCH_CLIENT_ID/SECRET.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

flow_ms = {}
local kind, session, auth_query, token_path, redirect, auth
local step, started, csrf, handle, uid, code = 1, 0, nil, nil, nil, nil
local form_type = "application/x-www-form-urlencoded"

function thread_init()
  kind = env("BENCH_KIND")
  session = read_lines(env("BENCH_SESSIONS"))[tid]
  auth_query, token_path = env("BENCH_AUTH_QUERY"), env("BENCH_TOKEN_PATH")
  redirect, auth = env("BENCH_REDIRECT_URI"), basic_auth()
end

local function redeem()
  return wrk.format("POST", token_path, { ["Content-Type"] = form_type, ["Authorization"] = auth },
    "grant_type=authorization_code&code=" .. urlencode(code) .. "&redirect_uri=" .. urlencode(redirect))
end

function next_request()
  if step == 1 then started = monotonic() end
  if kind == "ours" then
    if step == 1 then return wrk.format("GET", auth_query, { Cookie = session }) end
    if step == 2 then
      return wrk.format("POST", "/oauth/auth/decision", { Cookie = session, ["Content-Type"] = form_type },
        "csrf_token=" .. urlencode(csrf) .. "&request=" .. urlencode(handle) .. "&decision=allow")
    end
    return redeem()
  end
  if step == 1 then return wrk.format("GET", auth_query, { Cookie = session }) end
  local interaction = "_interaction=" .. uid .. "; " .. session
  if step == 2 then return wrk.format("GET", "/interaction/" .. uid, { Cookie = interaction }) end
  if step == 3 then
    return wrk.format("POST", "/interaction/" .. uid .. "/confirm",
      { Cookie = interaction, ["Content-Type"] = form_type }, "")
  end
  if step == 4 then
    return wrk.format("GET", "/auth/" .. uid, { Cookie = "_interaction_resume=" .. uid .. "; " .. session })
  end
  return redeem()
end

local function code_from(status, headers)
  local location = header(headers, "Location") or ""
  if status ~= 303 or string.sub(location, 1, #redirect) ~= redirect then return nil end
  return string.match(location, "[?&]code=([^&]+)")
end

-- One step's answer: true if it is the expected one (and the flow moves on).
local function advance(status, headers, body)
  if kind == "ours" then
    if step == 1 then
      csrf = string.match(body, 'name="csrf_token" value="([^"]*)"')
      handle = string.match(body, 'name="request" value="([^"]*)"')
      return status == 200 and csrf ~= nil and handle ~= nil
    end
    if step == 2 then
      code = code_from(status, headers)
      return code ~= nil
    end
  else
    if step == 1 then
      local location = header(headers, "Location") or ""
      uid = string.match(location, "/interaction/([%w_%-]+)$")
      return status == 303 and uid ~= nil
    end
    if step == 2 then return status == 200 end
    if step == 3 then
      local location = header(headers, "Location") or ""
      return status == 303 and string.find(location, "/auth/" .. uid, 1, true) ~= nil
    end
    if step == 4 then
      code = code_from(status, headers)
      local set_cookie = header(headers, "Set-Cookie") or ""
      local renewed = string.match(set_cookie, "^(_session=[^;]+)")
      if renewed then session = renewed end
      return code ~= nil
    end
  end
  return status == 200 and string.find(body, '"access_token"', 1, true) ~= nil
    and string.find(body, '"refresh_token"', 1, true) ~= nil
end

function check(status, headers, body)
  local last = (kind == "ours") and 3 or 5
  if not advance(status, headers, body) then
    step = 1
    return false, false
  end
  if step == last then
    flow_ms[#flow_ms + 1] = (monotonic() - started) * 1000
    step = 1
    return true, true
  end
  step = step + 1
  return true, false
end

local all_ms = {}

function thread_report(thread)
  for _, ms in ipairs(thread:get("flow_ms")) do all_ms[#all_ms + 1] = ms end
end

function report_extra(out)
  table.sort(all_ms)
  local function pct(p)
    if #all_ms == 0 then return 0 end
    return all_ms[math.max(1, math.min(#all_ms, math.ceil(p / 100 * #all_ms)))]
  end
  out[#out + 1] = string.format('"flow_p50_ms": %.3f', pct(50))
  out[#out + 1] = string.format('"flow_p99_ms": %.3f', pct(99))
end

// Drive Openplate with strict third-party clients: openid-client v6, oauth4webapi and jose.
//
// Input: a JSON object {"op": "...", ...}; output: one JSON line, {"ok": true, "result": ...} or
// {"ok": false, "error": {...}} when the library refused (a refusal is a result the Python test
// asserts on). `node client.mjs < request.json` answers one request; `node client.mjs --serve`
// answers one request per stdin line until stdin closes (what the tests use: no start-up per call).
// Anything else (bad JSON, an unknown op) is a crash: non-zero exit.
//
// The server runs over plain http on 127.0.0.1, so every library is told to allow that.

import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import * as jose from 'jose'
import { createInterface } from 'node:readline'

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function clientAuth(input) {
  switch (input.auth ?? (input.client_secret ? 'basic' : 'none')) {
    case 'basic':
      return client.ClientSecretBasic(input.client_secret)
    case 'post':
      return client.ClientSecretPost(input.client_secret)
    case 'none':
      return client.None()
    default:
      throw new Error(`unknown auth ${input.auth}`)
  }
}

// openid-client's Configuration from the server's discovery document (OIDC Discovery by default,
// RFC 8414 with {"algorithm": "oauth2"}).
async function configure(input) {
  return client.discovery(
    new URL(input.issuer),
    input.client_id,
    input.client_metadata ?? {},
    clientAuth(input),
    { execute: [client.allowInsecureRequests], algorithm: input.algorithm ?? 'oidc', timeout: 20 },
  )
}

function decodeHeader(jwt) {
  return jwt ? jose.decodeProtectedHeader(jwt) : null
}

function tokenReport(tokens) {
  return {
    tokens: { ...tokens },
    claims: tokens.claims?.() ?? null,
    id_token_header: decodeHeader(tokens.id_token),
    expires_in: tokens.expiresIn?.() ?? null,
  }
}

const ops = {
  async discover(input) {
    const config = await configure(input)
    return config.serverMetadata()
  },

  // oauth4webapi on its own: discovery request + strict processing of the response.
  async o4w_discover(input) {
    const issuer = new URL(input.issuer)
    const algorithm = input.algorithm ?? 'oidc'
    const response = await oauth.discoveryRequest(issuer, {
      algorithm,
      [oauth.allowInsecureRequests]: true,
    })
    const as = await oauth.processDiscoveryResponse(issuer, response)
    return { ...as, content_type: response.headers.get('content-type') }
  },

  async authorization_url(input) {
    const config = await configure(input)
    const codeVerifier = client.randomPKCECodeVerifier()
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier)
    const state = client.randomState()
    const nonce = client.randomNonce()
    const parameters = {
      redirect_uri: input.redirect_uri,
      scope: input.scope,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(input.extra ?? {}),
    }
    const url = client.buildAuthorizationUrl(config, parameters)
    return { url: url.href, state, nonce, code_verifier: codeVerifier, code_challenge: codeChallenge }
  },

  // The callback: RFC 9207 iss, state, code exchange with PKCE, then the ID token (signature via
  // the JWKS, iss, aud, exp, iat, nonce, auth_time when max_age was asked).
  async code_grant(input) {
    const config = await configure(input)
    const checks = {
      pkceCodeVerifier: input.code_verifier,
      expectedState: input.state,
      idTokenExpected: input.id_token_expected ?? true,
    }
    if (input.nonce != null) checks.expectedNonce = input.nonce
    if (input.max_age != null) checks.maxAge = input.max_age
    const tokens = await client.authorizationCodeGrant(config, new URL(input.callback_url), checks)
    return tokenReport(tokens)
  },

  async userinfo(input) {
    const config = await configure(input)
    return client.fetchUserInfo(config, input.access_token, input.expected_sub)
  },

  async refresh(input) {
    const config = await configure(input)
    const tokens = await client.refreshTokenGrant(config, input.refresh_token, input.parameters ?? {})
    return tokenReport(tokens)
  },

  async introspect(input) {
    const config = await configure(input)
    const params = input.hint ? { token_type_hint: input.hint } : undefined
    return client.tokenIntrospection(config, input.token, params)
  },

  async revoke(input) {
    const config = await configure(input)
    const params = input.hint ? { token_type_hint: input.hint } : undefined
    await client.tokenRevocation(config, input.token, params)
    return { revoked: true }
  },

  async client_credentials(input) {
    const config = await configure(input)
    const tokens = await client.clientCredentialsGrant(config, input.scope ? { scope: input.scope } : {})
    return tokenReport(tokens)
  },

  // A resource request the way openid-client makes it (Authorization: Bearer ...).
  async protected_resource(input) {
    const config = await configure(input)
    const response = await client.fetchProtectedResource(
      config, input.access_token, new URL(input.url), 'GET',
    )
    return {
      status: response.status,
      body: await response.json(),
      www_authenticate: response.headers.get('www-authenticate'),
    }
  },

  // RFC 9068 at a resource server: oauth4webapi.validateJwtAccessToken (typ at+jwt, signature via
  // the JWKS, iss, exp, aud, required claims), cross-checked with jose.jwtVerify.
  async validate_jwt_access_token(input) {
    const issuer = new URL(input.issuer)
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }),
    )
    const request = new Request(input.resource_url ?? `${input.issuer}/api`, {
      headers: { authorization: `Bearer ${input.token}` },
    })
    const claims = await oauth.validateJwtAccessToken(as, request, input.audience, {
      [oauth.allowInsecureRequests]: true,
    })
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri))
    const verified = await jose.jwtVerify(input.token, jwks, {
      issuer: as.issuer,
      audience: input.audience,
      typ: 'at+jwt',
      requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
    })
    return { claims: { ...claims }, jose_payload: verified.payload, header: verified.protectedHeader }
  },

  // --- OIDC RP-Initiated Logout and Back-Channel Logout (issue 17) -----------------------------

  // openid-client's buildEndSessionUrl: the end_session_endpoint from discovery, with
  // id_token_hint, post_logout_redirect_uri, state (and client_id, which it adds itself).
  async end_session_url(input) {
    const config = await configure(input)
    const url = client.buildEndSessionUrl(config, input.parameters ?? {})
    return { url: url.href, end_session_endpoint: config.serverMetadata().end_session_endpoint }
  },

  // A relying party's check of a logout token (Back-Channel Logout §2.6) with jose: signature
  // via the JWKS, typ logout+jwt, iss, aud, iat/exp, jti, the events member, no nonce.
  async verify_logout_token(input) {
    const jwks = jose.createRemoteJWKSet(new URL(`${input.issuer}/oauth/jwks`))
    const verified = await jose.jwtVerify(input.token, jwks, {
      issuer: input.issuer,
      audience: input.audience,
      typ: 'logout+jwt',
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'events'],
    })
    const event = verified.payload.events?.['http://schemas.openid.net/event/backchannel-logout']
    if (typeof event !== 'object' || event === null) throw new Error('no back-channel logout event')
    if ('nonce' in verified.payload) throw new Error('a logout token must not have a nonce')
    if (!('sub' in verified.payload) && !('sid' in verified.payload)) throw new Error('no sub or sid')
    return { payload: verified.payload, header: verified.protectedHeader }
  },
}

// --- RFC 9126 pushed authorisation requests (issue 17) ----------------------------------------
// openid-client's buildAuthorizationUrlWithPAR, and oauth4webapi on its own:
// pushedAuthorizationRequest + processPushedAuthorizationResponse, then its own strict callback
// checks and code exchange.

function parClientAuth(input) {
  switch (input.auth ?? (input.client_secret ? 'basic' : 'none')) {
    case 'basic':
      return oauth.ClientSecretBasic(input.client_secret)
    case 'post':
      return oauth.ClientSecretPost(input.client_secret)
    case 'none':
      return oauth.None()
    default:
      throw new Error(`unknown auth ${input.auth}`)
  }
}

async function parServer(input) {
  const issuer = new URL(input.issuer)
  const response = await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true })
  return oauth.processDiscoveryResponse(issuer, response)
}

const parOps = {
  // openid-client: push the request, get the URL that carries only client_id and request_uri.
  async par_authorization_url(input) {
    const config = await configure(input)
    const codeVerifier = client.randomPKCECodeVerifier()
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier)
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: input.redirect_uri,
      scope: input.scope,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(input.extra ?? {}),
    })
    return { url: url.href, state, nonce, code_verifier: codeVerifier }
  },

  // oauth4webapi: the push and the strict processing of its 201 answer.
  async o4w_par(input) {
    const as = await parServer(input)
    const oauthClient = { client_id: input.client_id }
    const codeVerifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const nonce = oauth.generateRandomNonce()
    const response = await oauth.pushedAuthorizationRequest(as, oauthClient, parClientAuth(input), {
      redirect_uri: input.redirect_uri,
      scope: input.scope,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(input.extra ?? {}),
    }, { [oauth.allowInsecureRequests]: true })
    const pushed = await oauth.processPushedAuthorizationResponse(as, oauthClient, response)
    const url = new URL(as.authorization_endpoint)
    url.searchParams.set('client_id', input.client_id)
    url.searchParams.set('request_uri', pushed.request_uri)
    return {
      url: url.href, state, nonce, code_verifier: codeVerifier, pushed: { ...pushed },
      status: response.status, endpoint: as.pushed_authorization_request_endpoint,
    }
  },

  // oauth4webapi: RFC 9207 iss and state of the callback, the code exchange with PKCE, the ID
  // token (signature, iss, aud, exp, iat, nonce).
  async o4w_code_grant(input) {
    const as = await parServer(input)
    const oauthClient = { client_id: input.client_id }
    const params = oauth.validateAuthResponse(as, oauthClient, new URL(input.callback_url), input.state)
    const response = await oauth.authorizationCodeGrantRequest(
      as, oauthClient, parClientAuth(input), params, input.redirect_uri, input.code_verifier,
      { [oauth.allowInsecureRequests]: true },
    )
    const result = await oauth.processAuthorizationCodeResponse(as, oauthClient, response, {
      expectedNonce: input.nonce, requireIdToken: true,
    })
    return { tokens: { ...result }, claims: oauth.getValidatedIdTokenClaims(result) ?? null }
  },
}
Object.assign(ops, parOps)

// --- Dynamic client registration (RFC 7591 / RFC 7592) ----------------------------------------
Object.assign(ops, {
  // openid-client: register from the discovery document's registration_endpoint.
  async oc_register(input) {
    const config = await client.dynamicClientRegistration(
      new URL(input.issuer),
      input.metadata,
      input.metadata.token_endpoint_auth_method === 'none' ? client.None() : undefined,
      {
        execute: [client.allowInsecureRequests],
        initialAccessToken: input.initial_access_token,
        timeout: 20,
      },
    )
    return { metadata: { ...config.clientMetadata() }, server: { ...config.serverMetadata() } }
  },
  // oauth4webapi: the same, then read the registration back (RFC 7592) with plain fetch.
  async o4w_register(input) {
    const issuer = new URL(input.issuer)
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }),
    )
    const response = await oauth.dynamicClientRegistrationRequest(as, input.metadata, {
      initialAccessToken: input.initial_access_token,
      [oauth.allowInsecureRequests]: true,
    })
    const registered = await oauth.processDynamicClientRegistrationResponse(response)
    const read = await fetch(registered.registration_client_uri, {
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    })
    return { metadata: { ...registered }, read_status: read.status, read: await read.json() }
  },
})
// --- RFC 8628 device authorization grant (issue 17) -------------------------------------------
// openid-client: initiateDeviceAuthorization, then pollDeviceAuthorizationGrant (which waits the
// interval, follows slow_down and authorization_pending by itself); oauth4webapi: each request
// and its strict processing on its own, so the Python test sees every answer.

async function o4wServer(input) {
  const issuer = new URL(input.issuer)
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }),
  )
  const auth = input.client_secret ? oauth.ClientSecretBasic(input.client_secret) : oauth.None()
  return { as, client: { client_id: input.client_id }, auth }
}

Object.assign(ops, {
  async device_initiate(input) {
    const config = await configure(input)
    return client.initiateDeviceAuthorization(config, input.scope ? { scope: input.scope } : {})
  },

  async device_poll(input) {
    const config = await configure(input)
    const tokens = await client.pollDeviceAuthorizationGrant(config, input.device_authorization)
    return tokenReport(tokens)
  },

  async o4w_device_start(input) {
    const { as, client: c, auth } = await o4wServer(input)
    const response = await oauth.deviceAuthorizationRequest(
      as, c, auth, input.scope ? { scope: input.scope } : {}, { [oauth.allowInsecureRequests]: true },
    )
    return oauth.processDeviceAuthorizationResponse(as, c, response)
  },

  // One poll: the tokens, or the library's ResponseBodyError (authorization_pending, slow_down,
  // access_denied, expired_token) as a refusal.
  async o4w_device_poll(input) {
    const { as, client: c, auth } = await o4wServer(input)
    const response = await oauth.deviceCodeGrantRequest(
      as, c, auth, input.device_code, { [oauth.allowInsecureRequests]: true },
    )
    const tokens = await oauth.processDeviceCodeResponse(as, c, response)
    return { tokens, id_token_claims: tokens.id_token ? oauth.getValidatedIdTokenClaims(tokens) : null }
  },
})
// --- end of the device authorization block ---------------------------------------------------
// --- DPoP (RFC 9449): openid-client getDPoPHandle and oauth4webapi DPoP() -------------------
// Key pairs live in this process between operations (a flow spans several), named by an id.
const dpopKeys = new Map()

function dpopKey(input) {
  const entry = dpopKeys.get(input.dpop_key)
  if (!entry) throw new Error(`unknown DPoP key ${input.dpop_key}`)
  return entry
}

// oauth4webapi: one request, and once more if the server answered use_dpop_nonce (the handle
// has kept the nonce from that answer), as the library's documentation has applications do.
async function o4wWithNonce(attempt) {
  try {
    return await attempt()
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error
    return { ...(await attempt()), nonce_retried: true }
  }
}

async function o4wDpopServer(issuerUrl) {
  const issuer = new URL(issuerUrl)
  return oauth.processDiscoveryResponse(
    issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }))
}

function o4wClient(input) {
  const client = { client_id: input.client_id }
  const auth = input.client_secret ? oauth.ClientSecretBasic(input.client_secret) : oauth.None()
  return { client, auth }
}

function o4wHandle(input, client) {
  const entry = dpopKey(input)
  entry.o4w ??= oauth.DPoP(client, entry.keyPair)
  return entry.o4w
}

const dpopOps = {
  // A new key pair for DPoP proofs (openid-client's randomDPoPKeyPair); its id and thumbprint.
  async dpop_key(input) {
    const keyPair = await client.randomDPoPKeyPair(input.alg ?? 'ES256')
    const jwk = await jose.exportJWK(keyPair.publicKey)
    const id = `k${dpopKeys.size + 1}`
    dpopKeys.set(id, { keyPair })
    return { id, jkt: await jose.calculateJwkThumbprint(jwk), jwk }
  },

  // openid-client: the code grant with a DPoP handle (it retries on use_dpop_nonce itself).
  async dpop_code_grant(input) {
    const config = await configure(input)
    const DPoP = client.getDPoPHandle(config, dpopKey(input).keyPair)
    const checks = { pkceCodeVerifier: input.code_verifier, expectedState: input.state,
      idTokenExpected: input.nonce != null }
    if (input.nonce != null) checks.expectedNonce = input.nonce
    const tokens = await client.authorizationCodeGrant(
      config, new URL(input.callback_url), checks, undefined, { DPoP })
    return tokenReport(tokens)
  },

  async dpop_refresh(input) {
    const config = await configure(input)
    const DPoP = client.getDPoPHandle(config, dpopKey(input).keyPair)
    return tokenReport(await client.refreshTokenGrant(config, input.refresh_token, {}, { DPoP }))
  },

  async dpop_userinfo(input) {
    const config = await configure(input)
    const DPoP = client.getDPoPHandle(config, dpopKey(input).keyPair)
    return client.fetchUserInfo(config, input.access_token, input.expected_sub, { DPoP })
  },

  async dpop_protected_resource(input) {
    const config = await configure(input)
    const DPoP = client.getDPoPHandle(config, dpopKey(input).keyPair)
    const response = await client.fetchProtectedResource(
      config, input.access_token, new URL(input.url), input.method ?? 'GET', undefined, undefined,
      { DPoP })
    return { status: response.status, body: await response.json(),
      dpop_nonce: response.headers.get('dpop-nonce') }
  },

  // oauth4webapi on its own: the callback's checks and the code grant, with DPoP(client, key).
  async o4w_dpop_code_grant(input) {
    const as = await o4wDpopServer(input.issuer)
    const { client: c, auth } = o4wClient(input)
    const DPoP = o4wHandle(input, c)
    const params = oauth.validateAuthResponse(as, c, new URL(input.callback_url), input.state)
    return o4wWithNonce(async () => {
      const response = await oauth.authorizationCodeGrantRequest(
        as, c, auth, params, input.redirect_uri, input.code_verifier,
        { DPoP, [oauth.allowInsecureRequests]: true })
      const result = await oauth.processAuthorizationCodeResponse(as, c, response, {
        expectedNonce: input.nonce ?? undefined, requireIdToken: input.nonce != null })
      return { tokens: { ...result } }
    })
  },

  async o4w_dpop_refresh(input) {
    const as = await o4wDpopServer(input.issuer)
    const { client: c, auth } = o4wClient(input)
    const DPoP = o4wHandle(input, c)
    return o4wWithNonce(async () => {
      const response = await oauth.refreshTokenGrantRequest(
        as, c, auth, input.refresh_token, { DPoP, [oauth.allowInsecureRequests]: true })
      return { tokens: { ...(await oauth.processRefreshTokenResponse(as, c, response)) } }
    })
  },

  async o4w_dpop_resource(input) {
    const { client: c } = o4wClient(input)
    const DPoP = o4wHandle(input, c)
    return o4wWithNonce(async () => {
      const response = await oauth.protectedResourceRequest(
        input.access_token, input.method ?? 'GET', new URL(input.url), new Headers(), null,
        { DPoP, [oauth.allowInsecureRequests]: true })
      return { status: response.status, body: await response.json() }
    })
  },

  async o4w_dpop_userinfo(input) {
    const as = await o4wDpopServer(input.issuer)
    const { client: c } = o4wClient(input)
    const DPoP = o4wHandle(input, c)
    return o4wWithNonce(async () => {
      const response = await oauth.userInfoRequest(
        as, c, input.access_token, { DPoP, [oauth.allowInsecureRequests]: true })
      return { claims: await oauth.processUserInfoResponse(as, c, input.expected_sub, response) }
    })
  },
}
Object.assign(ops, dpopOps)
// --- end of DPoP ---------------------------------------------------------------------------

async function describe(error) {
  const out = { name: error?.name, message: error?.message, code: error?.code }
  for (const key of ['error', 'error_description', 'status']) {
    if (error?.[key] !== undefined) out[key] = error[key]
  }
  // A WWW-Authenticate challenge error keeps the HTTP response; its JSON body has the error code.
  if (error?.response instanceof Response && !error.response.bodyUsed) {
    const text = await error.response.text()
    try {
      out.response_body = JSON.parse(text)
    } catch {
      out.response_body = text
    }
  }
  if (error?.cause !== undefined) {
    try {
      out.cause = JSON.parse(JSON.stringify(error.cause, (_k, v) => (v instanceof Response ? `Response ${v.status}` : v)))
    } catch {
      out.cause = String(error.cause)
    }
    if (error.cause instanceof Error) out.cause = await describe(error.cause)
  }
  return out
}

async function answer(input) {
  const op = ops[input.op]
  if (!op) throw new Error(`unknown op ${input.op}`)
  try {
    return { ok: true, result: await op(input) }
  } catch (error) {
    return { ok: false, error: await describe(error) }
  }
}

if (process.argv[2] === '--serve') {
  // Session mode: one JSON request per stdin line, one JSON answer per stdout line, in order.
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    process.stdout.write(JSON.stringify(await answer(JSON.parse(line))) + '\n')
  }
} else {
  // One-shot mode: node client.mjs < request.json
  process.stdout.write(JSON.stringify(await answer(await readStdin())) + '\n')
}

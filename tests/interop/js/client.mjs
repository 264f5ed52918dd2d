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

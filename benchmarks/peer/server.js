// The benchmark's peer: npm `oidc-provider` 9.x configured to do the same work as Openplate.
//
//   node server.js --generate-keys FILE   write two private RS256 JWKs (like Openplate's
//                                         "current" and "next" keys) and exit
//   node server.js                        serve on 127.0.0.1:$PORT until SIGTERM
//
// Environment (all set by benchmarks/bench.py):
//   PORT              where to listen (127.0.0.1 only)
//   PEER_KEYS         the file written by --generate-keys
//   PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_REDIRECT_URI   the one confidential client
//   PEER_USERNAME, PEER_EMAIL, PEER_PASSWORD_HASH           the one account; the hash is an
//                     argon2id PHC string made with Openplate's own parameters (19 MiB, t=2, p=1)
//
// What differs from the library's quick start, and why:
// - The library's own in-memory adapter (its MemoryAdapter class and LRU), but with room for 10
//   million entries instead of the quick start's 1000: with 1000, the thousands of tokens a run
//   issues would evict sessions, grants and refresh tokens, and the scenarios would fail.
// - A minimal custom interaction instead of devInteractions (which accepts any password): the
//   login POST verifies the password against the argon2id hash, the consent POST records a grant.
// - Cookies are not signed (no cookies.keys): a cookie is an opaque random id looked up in the
//   store, as Openplate's session cookie is; it also lets the wrk Lua script send the interaction
//   cookie, whose value is the interaction id in the Location header.
import { readFileSync, writeFileSync } from 'node:fs';

import * as argon2 from 'argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

async function generateKeys(file) {
  const keys = [];
  for (const kid of ['bench-current', 'bench-next']) {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' });
  }
  writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
}

if (process.argv[2] === '--generate-keys') {
  await generateKeys(process.argv[3]);
  process.exit(0);
}

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`peer: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const PORT = Number(env('PORT'));
const ISSUER = `http://127.0.0.1:${PORT}`;
const ACCOUNT = {
  id: '1',
  username: env('PEER_USERNAME'),
  email: env('PEER_EMAIL'),
  passwordHash: env('PEER_PASSWORD_HASH'),
};
const SCOPES = 'openid account maps';

const storage = new LRU({ maxSize: 10_000_000 });

const configuration = {
  adapter: (model) => new MemoryAdapter(model, storage),
  clients: [{
    client_id: env('PEER_CLIENT_ID'),
    client_secret: env('PEER_CLIENT_SECRET'),
    redirect_uris: [env('PEER_REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid offline_access account maps',
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  jwks: JSON.parse(readFileSync(env('PEER_KEYS'), 'utf8')),
  scopes: ['openid', 'offline_access', 'account', 'maps'],
  claims: { openid: ['sub'], account: ['preferred_username', 'email'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Openplate answers introspection only to the client the token was issued to.
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  pkce: { required: () => false },
  // Openplate issues a refresh token with every code for a client allowed the grant, and rotates
  // it on every use; the library's defaults need offline_access and rotate only late in life.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  // Openplate's grants outlive the browser session that approved them; the library's default
  // binds tokens without offline_access to the session and to its latest grant for the client.
  expiresWithSession: async () => false,
  // Same lifetimes as Openplate in the benchmark (OPENPLATE_CODE_TTL=600, the other defaults).
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    ClientCredentials: 3600,
    IdToken: 3600,
    Interaction: 1800,
    RefreshToken: 60 * 86400,
    Session: 14 * 86400,
    Grant: 60 * 86400,
  },
  findAccount: async (ctx, sub) => (sub === ACCOUNT.id ? {
    accountId: ACCOUNT.id,
    claims: async () => ({ sub: ACCOUNT.id, preferred_username: ACCOUNT.username, email: ACCOUNT.email }),
  } : undefined),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>Error</title><h1>${out.error}</h1>`;
  },
};

const provider = new Provider(ISSUER, configuration);

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

function page(ctx, status, title, inner) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1>${title}</h1>${inner}</body></html>`;
}

function loginForm(uid, error) {
  return `${error ? `<p>${escapeHtml(error)}</p>` : ''}`
    + `<form method="post" action="/interaction/${uid}/login">`
    + '<input name="login" autocomplete="username"><input type="password" name="password">'
    + '<button type="submit">Sign in</button></form>';
}

// The minimal interaction: GET shows the login or consent form, POST .../login checks the
// password, POST .../confirm records the consent as a grant.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) {
    await next();
    return;
  }
  const [, , uid, action] = ctx.path.split('/');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) {
    page(ctx, 400, 'Interaction mismatch', '');
    return;
  }
  const { prompt, params } = details;
  if (ctx.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') {
      page(ctx, 200, 'Sign in', loginForm(uid));
    } else {
      const client = await provider.Client.find(params.client_id);
      page(ctx, 200, 'Authorise', `<p>${escapeHtml(client.clientId)} asks for ${escapeHtml(params.scope)}</p>`
        + `<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>`);
    }
    return;
  }
  if (ctx.method === 'POST' && action === 'login' && prompt.name === 'login') {
    const form = await readForm(ctx.req);
    const login = (form.get('login') || '').trim().toLowerCase();
    const password = (form.get('password') || '').slice(0, 1024);
    const known = login === ACCOUNT.username.toLowerCase() || login === ACCOUNT.email.toLowerCase();
    // Same work whether or not the account exists, as Openplate does.
    const ok = await argon2.verify(ACCOUNT.passwordHash, password) && known;
    if (!ok) {
      page(ctx, 401, 'Sign in', loginForm(uid, 'Wrong username, e-mail or password.'));
      return;
    }
    const returnTo = await provider.interactionResult(
      ctx.req, ctx.res, { login: { accountId: ACCOUNT.id } }, { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }
  if (ctx.method === 'POST' && action === 'confirm' && prompt.name === 'consent') {
    await readForm(ctx.req);
    // A new grant for every consent, as Openplate creates a grant for every approval.
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope || SCOPES);
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(
      ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }
  page(ctx, 400, 'Bad interaction request', '');
});

const server = provider.listen(PORT, '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

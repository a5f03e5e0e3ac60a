// oidc-provider on loopback for claimcheck's interoperability tests.
//
//   node server.js --config FILE [--port N] [--host 127.0.0.1] [--issuer URL]
//                  [--jwks FILE] [--new-key]
//                  [--tls-cert FILE --tls-key FILE --tls-ca FILE]
//
// --config   JSON file: accounts, clients, resource servers and switches (see
//            example-config.json beside this file and e2e/README.md).
// --port     port to listen on; 0 (the default) picks a free one.
// --host     loopback address to bind (127.0.0.1, the default, or ::1).
// --issuer   issuer identifier; defaults to http://HOST:PORT (no path).
// --jwks     file holding the private signing JWKS. Read when it exists,
//            otherwise generated and written there (mode 0600).
// --new-key  generate a fresh signing key even if --jwks exists (and write it
//            there). Without --jwks every start has a fresh key.
// --tls-cert, --tls-key, --tls-ca
//            serve HTTPS with this certificate chain and key (PEM), ask every
//            client for a certificate and accept those that --tls-ca issued
//            for tls_client_auth, any for self_signed_tls_client_auth (RFC
//            8705); the issuer defaults to https://HOST:PORT. A connection
//            without a certificate is served too: the browser has none.
//
// When it serves, one JSON line goes to stdout:
//   {"ready":true,"issuer":"http://127.0.0.1:PORT","port":PORT,"kids":["..."]}
// (https: with --tls-cert).
// Everything else (request log, provider events) goes to stderr.
// SIGTERM or SIGINT stops it cleanly.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1']);

// Claim names of the groups shapes (config.groupsShapes): an Auth0 Action's
// namespaced claim and ZITADEL's project roles, an object keyed by role.
const NAMESPACED_GROUPS = 'https://claimcheck.example/groups';
const ZITADEL_ROLES = 'urn:zitadel:iam:org:project:roles';
const GROUPS_SHAPES = new Set(['keycloak', 'namespaced', 'zitadel', 'aggregated', 'distributed']);
// The distributed claims endpoint (config.groupsShapes "distributed").
const CLAIMS_PATH = '/claims';

function fail(message) {
  process.stderr.write(`oidc-provider server: ${message}\n`);
  process.exit(2);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        config: { type: 'string' },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        issuer: { type: 'string' },
        jwks: { type: 'string' },
        'new-key': { type: 'boolean', default: false },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail(err.message);
  }
  const { values } = parsed;
  if (!values.config) fail('--config FILE is required');
  if (!LOOPBACK_HOSTS.has(values.host)) fail(`--host must be a loopback address (127.0.0.1 or ::1), not ${values.host}`);
  const tlsFiles = [values['tls-cert'], values['tls-key'], values['tls-ca']];
  if (tlsFiles.some(Boolean) && !tlsFiles.every(Boolean)) fail('--tls-cert, --tls-key and --tls-ca go together');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0..65535, not ${values.port}`);
  return { ...values, port };
}

function readConfig(file) {
  let config;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`reading --config ${file}: ${err.message}`);
  }
  for (const key of ['accounts', 'clients']) {
    if (!config[key]) fail(`--config ${file}: "${key}" is missing`);
  }
  for (const [client, shape] of Object.entries(config.groupsShapes || {})) {
    if (!GROUPS_SHAPES.has(shape)) fail(`--config ${file}: groupsShapes.${client}: unknown shape ${JSON.stringify(shape)}`);
  }
  return config;
}

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // Exporting the generated KeyObject straight to JWK can deadlock on Node 20
  // (a garbage collection inside the export destroys the key generation job,
  // which waits for the lock the export holds). Export it as PEM and turn a
  // fresh KeyObject into the JWK. The e2e harness writes the key itself (Go)
  // and passes --jwks, so tests never depend on this path.
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const jwk = crypto.createPrivateKey(pem).export({ format: 'jwk' });
  const kid = crypto.randomBytes(12).toString('base64url');
  return { ...jwk, kid, use: 'sig', alg: 'RS256' };
}

function loadOrCreateJWKS(file, forceNew) {
  if (file && !forceNew && fs.existsSync(file)) {
    try {
      const jwks = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('no "keys"');
      return jwks;
    } catch (err) {
      fail(`reading --jwks ${file}: ${err.message}`);
    }
  }
  const jwks = { keys: [newSigningKey()] };
  if (file) {
    fs.writeFileSync(file, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  }
  return jwks;
}

// Sign-in failure page: devInteractions accepts any login without a
// password, so the accounts' passwords are checked here, in front of it.
function loginErrorPage(uid) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign-in failed</title></head>
<body><h1>Sign-in failed</h1>
<p id="login-error">Invalid login or password.</p>
<p><a href="/interaction/${encodeURIComponent(uid)}">Try again</a></p>
</body></html>`;
}

async function readRawBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function constantTimeEqual(a, b) {
  const ha = crypto.createHash('sha256').update(String(a)).digest();
  const hb = crypto.createHash('sha256').update(String(b)).digest();
  return crypto.timingSafeEqual(ha, hb);
}

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

// signJWT signs claims with the provider's first signing key (RS256), for
// aggregated claims (OpenID Connect Core 5.6.2).
function signJWT(jwks, claims) {
  const jwk = jwks.keys[0];
  const input = `${base64url({ alg: 'RS256', typ: 'JWT', kid: jwk.kid })}.${base64url(claims)}`;
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

// sourceToken is the access_token of an account's distributed claims
// source: an HMAC of its id, so that it needs no table.
function sourceToken(secret, sub) {
  return crypto.createHmac('sha256', secret).update(sub).digest('base64url');
}

// groupClaims are an account's groups in the shape groupsShapes names for
// the client that asked: what a provider other than oidc-provider sends.
function groupClaims(shape, ctx, sub, groups, jwks, secret) {
  const now = Math.floor(Date.now() / 1000);
  switch (shape) {
    case 'keycloak':
      // Keycloak: realm roles, nested; no groups claim.
      return { realm_access: { roles: [...groups, 'offline_access'] } };
    case 'namespaced':
      return { [NAMESPACED_GROUPS]: groups };
    case 'zitadel':
      return { [ZITADEL_ROLES]: Object.fromEntries(groups.map((g) => [g, { '278455224339644161': 'e2e.zitadel.example' }])) };
    case 'aggregated':
      return {
        _claim_names: { groups: 'src1' },
        _claim_sources: {
          src1: { JWT: signJWT(jwks, { iss: ctx.oidc.issuer, sub, groups, iat: now, exp: now + 600 }) },
        },
      };
    case 'distributed':
      return {
        _claim_names: { groups: 'src1' },
        _claim_sources: {
          src1: { endpoint: `${ctx.oidc.issuer}${CLAIMS_PATH}`, access_token: sourceToken(secret, sub) },
        },
      };
    default:
      return { groups };
  }
}

// claimsEndpoint answers a distributed claims source's GET with the
// account's groups as JSON, for the source's bearer token.
function claimsEndpoint(req, res, accounts, secret) {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization || '')?.[1];
  const sub = token && Object.keys(accounts).find((id) => constantTimeEqual(sourceToken(secret, id), token));
  if (req.method !== 'GET' || !sub) {
    res.writeHead(req.method !== 'GET' ? 405 : 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ sub, groups: accounts[sub].groups || [] }));
}

function readTLSFiles(args) {
  if (!args['tls-cert']) return undefined;
  const tls = {};
  for (const [name, flag] of [['cert', 'tls-cert'], ['key', 'tls-key'], ['ca', 'tls-ca']]) {
    try {
      tls[name] = fs.readFileSync(args[flag]);
    } catch (err) {
      fail(`reading --${flag} ${args[flag]}: ${err.message}`);
    }
  }
  return tls;
}

// The subject DN of an X509Certificate as RFC 4514 writes it, the form of
// tls_client_auth_subject_dn (RFC 8705 section 2.1.2): Node lists the RDNs
// one a line, most significant first; RFC 4514 joins them with commas in
// the reverse order.
function subjectDN(cert) {
  return cert.subject.split('\n').reverse().join(',');
}

// The client certificate of the request's TLS connection, undefined for a
// connection without one (the browser's, or plain HTTP).
function peerCertificate(ctx) {
  const peer = ctx.socket.getPeerCertificate?.();
  if (!peer?.raw) return undefined;
  return new crypto.X509Certificate(peer.raw);
}

// features.mTLS (RFC 8705) when the server has TLS: every client
// certificate reaches oidc-provider, which authenticates tls_client_auth
// clients by the CA's verdict (socket.authorized, against --tls-ca) and the
// registered subject, self_signed_tls_client_auth clients by the
// certificate's thumbprint in their jwks, and binds access tokens of
// clients registered with tls_client_certificate_bound_access_tokens.
function mTLSFeature(tls) {
  if (!tls) return { enabled: false };
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: peerCertificate,
    certificateAuthorized(ctx) {
      return ctx.socket.authorized === true;
    },
    certificateSubjectMatches(ctx, property, expected) {
      const cert = peerCertificate(ctx);
      if (!cert) return false;
      switch (property) {
        case 'tls_client_auth_subject_dn':
          return subjectDN(cert) === expected;
        default:
          // The harness registers its clients by subject DN alone.
          return false;
      }
    },
  };
}

function buildConfiguration(config, jwks, secret, tls) {
  const accounts = config.accounts;
  const groupsShapes = config.groupsShapes || {};
  const resourceServers = config.resourceServers || {};
  const defaultResources = config.defaultResource || {};

  const claims = {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    // The groups shapes' claims come with the groups scope as groups does.
    groups: ['groups', 'realm_access', NAMESPACED_GROUPS, ZITADEL_ROLES],
  };

  return {
    clients: config.clients,
    jwks,
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims,
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // oidc-provider's default methods, and with TLS the two of RFC 8705,
    // which its default leaves out even with features.mTLS enabled.
    clientAuthMethods: [
      'none', 'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt',
      ...(tls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
    ],
    // false: the claims of the requested scopes (groups among them) go into
    // every ID token. oidc-provider's default (true) keeps them out of ID
    // tokens issued together with an access token usable at userinfo.
    conformIdTokenClaims: config.conformIdTokenClaims ?? false,
    responseTypes: [
      'code',
      'id_token',
      'id_token token',
      'code id_token',
      'code token',
      'code id_token token',
      'none',
    ],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      // Device authorization grant (RFC 8628), for the clients whose
      // grant_types list it: its pages are oidc-provider's own (user code
      // input, "Confirm Device" with Continue / [ Abort ], "Sign-in Success").
      deviceFlow: { enabled: true },
      claimsParameter: { enabled: true },
      introspection: { enabled: true },
      // Pushed authorization requests (RFC 9126): for every client, and
      // required of clients registered with
      // require_pushed_authorization_requests, or of all with the
      // config's requirePushedAuthorizationRequests.
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: config.requirePushedAuthorizationRequests ?? false,
      },
      // Request objects (RFC 9101): taken from every client, required of
      // clients registered with require_signed_request_object.
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      // DPoP (RFC 9449): a nonce is required of every DPoP proof, as
      // Okta does, so the first token request is answered use_dpop_nonce.
      dPoP: {
        enabled: true,
        nonceSecret: crypto.randomBytes(32),
        requireNonce: () => true,
      },
      // JWT Secured Authorization Response Mode (JARM): the jwt,
      // query.jwt, fragment.jwt and form_post.jwt response modes, signed
      // with each client's authorization_signed_response_alg (RS256).
      jwtResponseModes: { enabled: true },
      mTLS: mTLSFeature(tls),
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          return defaultResources[client.clientId];
        },
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, indicator) {
          const rs = resourceServers[indicator];
          if (!rs) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: rs.scope,
            audience: rs.audience || indicator,
            accessTokenTTL: rs.accessTokenTTL || 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken' || !token.resourceServer || !token.accountId) return undefined;
      const rs = resourceServers[token.resourceServer.identifier()];
      const account = accounts[token.accountId];
      if (!rs?.groupsClaim || !account) return undefined;
      return { [rs.groupsClaim]: account.groups || [] };
    },
    async findAccount(ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: true,
            name: account.name,
            preferred_username: sub,
            ...groupClaims(groupsShapes[ctx.oidc.client?.clientId], ctx, sub, account.groups || [], jwks, secret),
          };
        },
      };
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<tr><th>${k}</th><td id="${k}">${String(v).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</td></tr>`)
        .join('');
      ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>oops! something went wrong</title></head>
<body><h1 id="provider-error">oops! something went wrong</h1><table>${rows}</table></body></html>`;
    },
  };
}

async function main() {
  const args = parseCommandLine();
  const config = readConfig(args.config);
  const jwks = loadOrCreateJWKS(args.jwks, args['new-key']);
  const tls = readTLSFiles(args);

  // Listen first, so that port 0 works and the issuer carries the real port.
  // rejectUnauthorized false: a connection whose certificate the CA did not
  // issue, or without one, is served and oidc-provider decides per client.
  const server = tls
    ? https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false })
    : http.createServer();
  // Node closes an idle keep-alive connection after 5 s, while Go's client
  // keeps it for 90 s: a token request sent on it just as Node closes it
  // is reset (a sign-in that takes about 5 s hits that). Idle connections
  // outlive every run here instead.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, resolve);
  });
  const { port } = server.address();
  const hostInURL = args.host.includes(':') ? `[${args.host}]` : args.host;
  const issuer = args.issuer || `${tls ? 'https' : 'http'}://${hostInURL}:${port}`;
  const issuerURL = URL.parse(issuer);
  if (!issuerURL || (issuerURL.pathname !== '/' && issuerURL.pathname !== '')) {
    fail(`--issuer must be an absolute URL without a path, not ${issuer}`);
  }

  const sourceSecret = crypto.randomBytes(32);
  const provider = new Provider(issuer, buildConfiguration(config, jwks, sourceSecret, tls));

  // Loopback redirect URIs over http for web clients that use the implicit
  // flow: oidc-provider refuses them unless these two checks are waived.
  const { Schema } = provider.Client;
  const originalInvalidate = Schema.prototype.invalidate;
  Schema.prototype.invalidate = function invalidate(message, code) {
    if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
    originalInvalidate.call(this, message, code);
  };

  // Request log (stderr): method, path, status, time. No query strings or
  // bodies: they carry codes and tokens.
  provider.use(async (ctx, next) => {
    const started = Date.now();
    try {
      await next();
    } finally {
      process.stderr.write(`${new Date().toISOString()} ${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms\n`);
    }
  });

  // Password check in front of devInteractions' login submit.
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (ctx.method !== 'POST' || !match || !ctx.is('application/x-www-form-urlencoded')) {
      return next();
    }
    const raw = await readRawBody(ctx.req);
    const body = querystring.parse(raw);
    // oidc-provider reads an already consumed body from req.body.
    ctx.req.body = raw;
    if (body.prompt === 'login') {
      const account = config.accounts[body.login];
      if (!account || !constantTimeEqual(account.password, body.password ?? '')) {
        process.stderr.write(`sign-in refused for login ${JSON.stringify(String(body.login))}\n`);
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = loginErrorPage(match[1]);
        return undefined;
      }
    }
    return next();
  });

  for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error',
    'introspection.error', 'check_session_origin.error', 'end_session.error']) {
    provider.on(event, (ctx, err) => {
      // error_detail is what oidc-provider keeps from the client (which
      // certificate or assertion check refused it): the log is where a
      // test reads why.
      const detail = [err.error_description, err.error_detail].filter(Boolean).map((d) => ` (${d})`).join('');
      process.stderr.write(`event ${event}: ${err.name}: ${err.message}${detail}\n`);
    });
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (new URL(req.url, issuer).pathname === CLAIMS_PATH) {
      process.stderr.write(`${new Date().toISOString()} ${req.method} ${CLAIMS_PATH}\n`);
      claimsEndpoint(req, res, config.accounts, sourceSecret);
      return;
    }
    callback(req, res);
  });

  const shutdown = (signal) => {
    process.stderr.write(`${signal}: stopping\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  process.stdout.write(`${JSON.stringify({
    ready: true, issuer, port, kids: jwks.keys.map((k) => k.kid),
  })}\n`);
}

main().catch((err) => fail(err.stack || err.message));

// An independent UDAP B2B client (HL7 UDAP Security IG): JOSE by the `jose` library, certificates
// by node:crypto, mutual TLS by node:https. None of hie-node's code.
//   node udap-client.js flow|register|token|read|case OPTIONS
// Options:
//   --url https://127.0.0.1:PORT  where the node listens (the connection; endpoint URLs from the
//                                 metadata are sent to this origin, their paths kept)
//   --base https://PUBLIC          the node's server.baseUrl (FHIR base = BASE/fhir)
//   --cert FILE --key FILE         the TLS client certificate chain and key
//   --ca FILE                      the network's root (trust anchor for TLS and for signed_metadata)
//   --sign-cert FILE --sign-key FILE   the certificate chain (x5c) and key that sign the JWTs
//                                  (default: --cert/--key)
//   --iss URI                      the software statement's iss (a SAN URI of the signing leaf)
//   --org URI                      hl7-b2b organization_id (default: --iss)
//   --purpose CODE                 hl7-b2b purpose_of_use (default urn:oid:2.16.840.1.113883.5.8#TREAT)
//   --scope S                      (default system/*.read)
//   --client-id ID                 for token/case without registering first
//   --patient ID                   the Patient read with the token (flow, read)
//   --token T                      for read
//   --case NAME                    one crafted request (see CASES below)
// Every step prints one JSON object on stdout: {"step", "status", "body", ...}. The test that runs
// this script decides what is right. Exit status 0 unless the script itself failed (2: usage).
'use strict';

const fs = require('fs');
const https = require('https');
const crypto = require('crypto');

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[++i];
    else out._.push(argv[i]);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const mode = args._[0];
if (!mode || !args.url || !args.base || !args.cert || !args.key || !args.ca) {
  console.error('usage: node udap-client.js flow|register|token|read|case --url URL --base BASE --cert F --key F --ca F ...');
  process.exit(2);
}
const tlsCertPem = fs.readFileSync(args.cert, 'utf8');
const tlsKeyPem = fs.readFileSync(args.key, 'utf8');
const caPem = fs.readFileSync(args.ca, 'utf8');
const signCertPem = fs.readFileSync(args['sign-cert'] || args.cert, 'utf8');
const signKeyPem = fs.readFileSync(args['sign-key'] || args.key, 'utf8');
const fhirBase = args.base + '/fhir';
const registrationUrl = args.base + '/oauth/register';
const tokenUrl = args.base + '/oauth/token';
const purpose = args.purpose || 'urn:oid:2.16.840.1.113883.5.8#TREAT';
const scope = args.scope || 'system/*.read';

function report(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

// PEM chain -> array of base64 DER (x5c, RFC 7515 4.1.6: standard base64, padded).
function x5cOf(pem) {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
  return blocks.map((b) => new crypto.X509Certificate(b).raw.toString('base64'));
}
const signX5c = x5cOf(signCertPem);
const signKey = crypto.createPrivateKey(signKeyPem);
const signAlg = signKey.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256';

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}
function now() {
  return Math.floor(Date.now() / 1000);
}
function jti() {
  return crypto.randomBytes(16).toString('hex');
}

// A request to the node's origin (--url) with the path of `url`, over mutual TLS.
function request(method, url, headers, body) {
  const target = new URL(url);
  const origin = new URL(args.url);
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: origin.hostname,
        port: origin.port,
        method,
        path: target.pathname + target.search,
        headers: { ...headers, ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
        cert: tlsCertPem,
        key: tlsKeyPem,
        ca: caPem,
        servername: 'localhost',
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch (e) {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', (e) => resolve({ status: 0, text: String(e), json: undefined, headers: {} }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Signs with the jose library (the well-formed path).
async function signJwt(claims, options = {}) {
  const jose = await import('jose');
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: options.alg || signAlg, x5c: options.x5c || signX5c })
    .sign(options.key || signKey);
}

// Builds a compact JWS by hand from header/claims TEXT (for the crafted cases), signed with key
// (a KeyObject, a Buffer for HS256, or null for an empty signature).
function rawJws(headerText, claimsText, alg, key) {
  const input = b64u(headerText) + '.' + b64u(claimsText);
  // alg none with a signature part that is not empty: refused for its alg, not for its shape.
  let sig = alg === 'none' ? crypto.randomBytes(64) : Buffer.alloc(0);
  if (alg === 'HS256') sig = crypto.createHmac('sha256', key).update(input).digest();
  else if (alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key);
  else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return input + '.' + b64u(sig);
}

function statementClaims(overrides = {}) {
  const t = now();
  return {
    iss: args.iss,
    sub: args.iss,
    aud: registrationUrl,
    iat: t,
    exp: t + 300,
    jti: jti(),
    client_name: 'udap-client.js test app',
    contacts: ['mailto:ops@example.org'],
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    scope,
    ...overrides,
  };
}

function assertionClaims(clientId, overrides = {}, b2b = {}) {
  const t = now();
  const claims = {
    iss: clientId,
    sub: clientId,
    aud: tokenUrl,
    iat: t,
    exp: t + 300,
    jti: jti(),
    extensions: {
      'hl7-b2b': {
        version: '1',
        organization_id: args.org || args.iss,
        organization_name: 'udap-client.js',
        purpose_of_use: [purpose],
        ...b2b,
      },
    },
    ...overrides,
  };
  return claims;
}

async function postRegistration(statement, extra = {}) {
  const body = JSON.stringify({ software_statement: statement, udap: '1', ...extra });
  return request('POST', registrationUrl, { 'Content-Type': 'application/json' }, body);
}

function formOf(params) {
  return Object.entries(params)
    .map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v))
    .join('&');
}

async function postToken(assertion, params = {}) {
  const form = formOf({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    udap: '1',
    ...params,
  });
  return request('POST', tokenUrl, { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
}

function show(step, r, extra = {}) {
  report(step, {
    status: r.status,
    cacheControl: r.headers['cache-control'] || null,
    contentType: r.headers['content-type'] || null,
    body: r.json !== undefined ? r.json : r.text.slice(0, 500),
    ...extra,
  });
}

// Discovery and the checks a client SHALL make on signed_metadata (discovery.md 2.3).
async function discover() {
  const r = await request('GET', fhirBase + '/.well-known/udap', {});
  if (r.status !== 200 || !r.json) {
    show('discover', r);
    return null;
  }
  const jose = await import('jose');
  const problems = [];
  const md = r.json;
  try {
    const header = jose.decodeProtectedHeader(md.signed_metadata);
    const chain = (header.x5c || []).map((d) => new crypto.X509Certificate(Buffer.from(d, 'base64')));
    if (chain.length === 0) throw new Error('no x5c');
    const root = new crypto.X509Certificate(caPem);
    const all = [...chain, root];
    const t = new Date();
    for (let i = 0; i + 1 < all.length; i++) {
      if (!all[i].checkIssued(all[i + 1]) || !all[i].verify(all[i + 1].publicKey)) {
        throw new Error('x5c chain broken at ' + i);
      }
    }
    for (const c of all) {
      if (new Date(c.validFrom) > t || new Date(c.validTo) < t) throw new Error('certificate out of validity');
    }
    const leafPem = chain[0].toString();
    const key = await jose.importX509(leafPem, header.alg);
    const { payload } = await jose.jwtVerify(md.signed_metadata, key, {
      algorithms: ['RS256', 'ES256', 'RS384', 'ES384'],
      issuer: fhirBase,
      subject: fhirBase,
    });
    const sanUris = (chain[0].subjectAltName || '')
      .split(', ')
      .filter((s) => s.startsWith('URI:'))
      .map((s) => s.slice(4));
    if (!sanUris.includes(payload.iss)) problems.push('iss is not a SAN URI of the leaf');
    if (payload.exp - payload.iat > 365 * 24 * 3600) problems.push('exp - iat over a year');
    if (payload.token_endpoint !== md.token_endpoint) problems.push('token_endpoint differs');
    if (payload.registration_endpoint !== md.registration_endpoint) problems.push('registration_endpoint differs');
    report('discover', {
      status: r.status,
      signedMetadata: problems.length === 0 ? 'valid' : 'invalid',
      alg: header.alg,
      problems,
      iss: payload.iss,
      token_endpoint: payload.token_endpoint,
      registration_endpoint: payload.registration_endpoint,
      body: md,
    });
    if (problems.length > 0) return null;
    return payload;
  } catch (e) {
    report('discover', { status: r.status, signedMetadata: 'invalid', problems: [String(e)], body: md });
    return null;
  }
}

async function register(overrides = {}) {
  const statement = await signJwt(statementClaims(overrides));
  const r = await postRegistration(statement);
  show('register', r);
  return r.json && r.json.client_id;
}

async function token(clientId, overrides = {}, b2b = {}) {
  const assertion = await signJwt(assertionClaims(clientId, overrides, b2b));
  const r = await postToken(assertion);
  show('token', r);
  return r.json && r.json.access_token;
}

async function read(accessToken) {
  const r = await request('GET', fhirBase + '/Patient/' + (args.patient || 'p1'), {
    Authorization: 'Bearer ' + accessToken,
    Accept: 'application/fhir+json',
  });
  show('read', r);
}

// The crafted requests: each prints one step named after the case.
const CASES = {
  // Registration
  'reg-alg-none': async () => postRegistration(rawJws(JSON.stringify({ alg: 'none', x5c: signX5c }), JSON.stringify(statementClaims()), 'none')),
  'reg-hs256-cert-key': async () => {
    // HS256 keyed with the certificate's public key bytes (PEM): the classic algorithm confusion.
    const pub = crypto.createPublicKey(signKey).export({ type: 'spki', format: 'pem' });
    return postRegistration(rawJws(JSON.stringify({ alg: 'HS256', x5c: signX5c }), JSON.stringify(statementClaims()), 'HS256', Buffer.from(pub)));
  },
  'reg-exp-301': async () => {
    const t = now();
    return postRegistration(await signJwt(statementClaims({ iat: t, exp: t + 301 })));
  },
  'reg-wrong-aud': async () => postRegistration(await signJwt(statementClaims({ aud: tokenUrl }))),
  'reg-33k': async () => postRegistration(await signJwt(statementClaims({ padding: 'x'.repeat(33 * 1024) }))),
  'reg-x5c-6': async () => {
    const x5c = [...signX5c];
    while (x5c.length < 6) x5c.push(signX5c[signX5c.length - 1]);
    return postRegistration(await signJwt(statementClaims(), { x5c }));
  },
  'reg-x5c-9k': async () => postRegistration(await signJwt(statementClaims(), { x5c: [signX5c[0], crypto.randomBytes(9 * 1024).toString('base64')] })),
  'reg-body-malformed': async () => request('POST', registrationUrl, { 'Content-Type': 'application/json' }, '{"software_statement": "a.b.c", "udap": "1"'),
  'reg-body-duplicate': async () => {
    const s = await signJwt(statementClaims());
    return request('POST', registrationUrl, { 'Content-Type': 'application/json' },
      '{"software_statement":"' + s + '","udap":"1","udap":"1"}');
  },
  'reg-header-malformed': async () => postRegistration(rawJws('{"alg":"' + signAlg + '",', JSON.stringify(statementClaims()), signAlg, signKey)),
  'reg-header-duplicate': async () => postRegistration(rawJws('{"alg":"' + signAlg + '","alg":"' + signAlg + '","x5c":' + JSON.stringify(signX5c) + '}', JSON.stringify(statementClaims()), signAlg, signKey)),
  'reg-claims-malformed': async () => postRegistration(rawJws(JSON.stringify({ alg: signAlg, x5c: signX5c }), '{"iss":', signAlg, signKey)),
  'reg-claims-duplicate': async () => {
    const text = JSON.stringify(statementClaims()).replace(/^\{/, '{"iss":"' + args.iss + '",');
    return postRegistration(rawJws(JSON.stringify({ alg: signAlg, x5c: signX5c }), text, signAlg, signKey));
  },
  'reg-replay': async () => {
    const s = await signJwt(statementClaims());
    const first = await postRegistration(s);
    report('reg-replay-first', { status: first.status });
    return postRegistration(s);
  },
  'reg-udap-missing': async () => request('POST', registrationUrl, { 'Content-Type': 'application/json' },
    JSON.stringify({ software_statement: await signJwt(statementClaims()) })),
  'reg-authorization-code': async () => postRegistration(await signJwt(statementClaims({ grant_types: ['authorization_code'] }))),
  'reg-cancel': async () => postRegistration(await signJwt(statementClaims({ grant_types: [] }))),
  // Token (need --client-id)
  'tok-alg-none': async () => postToken(rawJws(JSON.stringify({ alg: 'none', x5c: signX5c }), JSON.stringify(assertionClaims(args['client-id'])), 'none')),
  'tok-hs256-cert-key': async () => {
    const der = new crypto.X509Certificate(signCertPem).publicKey.export({ type: 'spki', format: 'der' });
    return postToken(rawJws(JSON.stringify({ alg: 'HS256', x5c: signX5c }), JSON.stringify(assertionClaims(args['client-id'])), 'HS256', der));
  },
  'tok-exp-301': async () => {
    const t = now();
    return postToken(await signJwt(assertionClaims(args['client-id'], { iat: t, exp: t + 301 })));
  },
  'tok-wrong-aud': async () => postToken(await signJwt(assertionClaims(args['client-id'], { aud: registrationUrl }))),
  'tok-replay': async () => {
    const a = await signJwt(assertionClaims(args['client-id']));
    const first = await postToken(a);
    report('tok-replay-first', { status: first.status });
    return postToken(a);
  },
  'tok-b2b-missing': async () => {
    const c = assertionClaims(args['client-id']);
    delete c.extensions;
    return postToken(await signJwt(c));
  },
  'tok-org-other': async () => postToken(await signJwt(assertionClaims(args['client-id'], {}, { organization_id: 'urn:oid:2.16.840.1.113883.3.7999' }))),
  'tok-purpose-unknown': async () => postToken(await signJwt(assertionClaims(args['client-id'], {}, { purpose_of_use: ['urn:oid:2.16.840.1.113883.5.8#NOSUCH'] }))),
  'tok-grant-authorization-code': async () => postToken(await signJwt(assertionClaims(args['client-id'])), { grant_type: 'authorization_code' }),
  'tok-udap-missing': async () => {
    const a = await signJwt(assertionClaims(args['client-id']));
    const form = formOf({ grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: a });
    return request('POST', tokenUrl, { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
  },
  'tok-udap-2': async () => postToken(await signJwt(assertionClaims(args['client-id'])), { udap: '2' }),
  'tok-33k': async () => postToken(await signJwt(assertionClaims(args['client-id'], { padding: 'x'.repeat(33 * 1024) }))),
  'tok-x5c-6': async () => {
    const x5c = [...signX5c];
    while (x5c.length < 6) x5c.push(signX5c[signX5c.length - 1]);
    return postToken(await signJwt(assertionClaims(args['client-id']), { x5c }));
  },
  'tok-x5c-9k': async () => postToken(await signJwt(assertionClaims(args['client-id']), { x5c: [signX5c[0], crypto.randomBytes(9 * 1024).toString('base64')] })),
  'tok-body-duplicate': async () => {
    const a = await signJwt(assertionClaims(args['client-id']));
    const form = formOf({ grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: a, udap: '1' }) + '&scope=' + encodeURIComponent(scope);
    return request('POST', tokenUrl, { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
  },
  'tok-claims-duplicate': async () => {
    const text = JSON.stringify(assertionClaims(args['client-id'])).replace(/^\{/, '{"aud":"' + tokenUrl + '",');
    return postToken(rawJws(JSON.stringify({ alg: signAlg, x5c: signX5c }), text, signAlg, signKey));
  },
  'tok-client-secret': async () => postToken(await signJwt(assertionClaims(args['client-id'])), { client_secret: 's3cret' }),
};

async function main() {
  if (mode === 'flow') {
    const md = await discover();
    if (!md) return;
    const clientId = await register();
    if (!clientId) return;
    const accessToken = await token(clientId);
    if (!accessToken) return;
    await read(accessToken);
  } else if (mode === 'discover') {
    await discover();
  } else if (mode === 'register') {
    await register();
  } else if (mode === 'token') {
    await token(args['client-id']);
  } else if (mode === 'read') {
    await read(args.token);
  } else if (mode === 'case') {
    const run = CASES[args.case];
    if (!run) {
      console.error('unknown case ' + args.case + '; cases: ' + Object.keys(CASES).join(' '));
      process.exit(2);
    }
    show(args.case, await run());
  } else {
    console.error('unknown mode ' + mode);
    process.exit(2);
  }
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});

#!/usr/bin/env node
// An independent JOSE implementation (the `jose` package) as a test oracle for
// auth/udap's JWS code (tests/unit/auth/udap/jose_interop_test.cpp):
//   jose-check.js verify FILE ALG   FILE holds a compact JWS with an x5c header; verifies it with
//                                   the x5c leaf's key, allowing only ALG; prints the claims JSON.
//   jose-check.js sign ALG KEY CERT CLAIMS   signs the JSON text in file CLAIMS with the PKCS#8 PEM
//                                   in file KEY, header {"alg":ALG,"x5c":[base64 of the PEM
//                                   certificate in file CERT]}; prints the compact JWS.
// Exit 0 on success, 1 with a message on stderr otherwise.
'use strict';
const fs = require('fs');
const crypto = require('crypto');

async function main() {
  const jose = await import('jose');
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'verify') {
    const [file, alg] = args;
    const token = fs.readFileSync(file, 'utf8').trim();
    const header = jose.decodeProtectedHeader(token);
    if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new Error('no x5c');
    const pem = '-----BEGIN CERTIFICATE-----\n' + header.x5c[0].match(/.{1,64}/g).join('\n') + '\n-----END CERTIFICATE-----\n';
    const key = await jose.importX509(pem, alg);
    const { payload } = await jose.compactVerify(token, key, { algorithms: [alg] });
    process.stdout.write(Buffer.from(payload).toString('utf8'));
  } else if (mode === 'sign') {
    const [alg, keyFile, certFile, claimsFile] = args;
    const key = await jose.importPKCS8(fs.readFileSync(keyFile, 'utf8'), alg);
    const der = new crypto.X509Certificate(fs.readFileSync(certFile)).raw.toString('base64');
    const jws = await new jose.CompactSign(fs.readFileSync(claimsFile))
      .setProtectedHeader({ alg, x5c: [der] })
      .sign(key);
    process.stdout.write(jws);
  } else {
    throw new Error('usage: jose-check.js verify FILE ALG | sign ALG KEY CERT CLAIMS');
  }
}

main().catch((e) => {
  process.stderr.write(`jose-check: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});

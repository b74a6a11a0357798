#!/usr/bin/env node
// Validates the custom resources in a rendered kustomization (YAML stream on stdin) that
// kubernetes-validate cannot: PrometheusRule and PodMonitor against the prometheus-operator
// models, and cert-manager's Certificate, Issuer and ClusterIssuer against the cert-manager
// models (types, required fields, enums such as a key usage or a key algorithm, patterns), plus
// what those models let through:
//
// - unknown or misspelled fields anywhere in the object. A CRD's schema keeps unknown fields
//   out of the stored object silently (pruning), so `keep_firng_for: 5m`, `podMetricEndpoints`,
//   or `dnsName:` / `isCa:` in a Certificate would apply fine and do nothing (a CA that is not
//   one, a certificate without the names the mesh checks). The known fields are read from the
//   models' type declarations (their `.d.ts` classes), so every field the CRD knows is accepted.
//   The cert-manager models are generated from cert-manager's Go API types, the same types its
//   CRDs are generated from; scripts/validate-crs.py leaves cert-manager.io to this script
//   (the schema catalog has no cert-manager.io).
// - Prometheus' own rule rules: each rule is `expr` plus exactly one of `alert` / `record`;
//   recording rules take no `for`, `keep_firing_for` or `annotations`; group names are unique.
// - tanksim's conventions: every alert has a severity and summary, description and
//   runbook_url annotations; record names are `level:metric:operations`.
// - ConfigMaps stay under the 256 KiB that client-side apply (Argo CD's default) can store
//   in its last-applied annotation; Grafana dashboard ConfigMaps hold parseable JSON.
//
// Usage: kubectl kustomize deploy/observability | node scripts/validate-crds.mjs
// The npm packages come from scripts/tools.sh (ensure_manifest_validators), found through
// TANKSIM_NODE_MODULES (default .tools/node/node_modules).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const modules = resolve(process.env.TANKSIM_NODE_MODULES ?? ".tools/node/node_modules");
const load = (path) => import(pathToFileURL(join(modules, path)).href);

const YAML = await load("yaml/dist/index.js");
const v1 = join("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
const certManager = join("@kubernetes-models/cert-manager/cert-manager.io/v1");
/** A cert-manager.io/v1 kind: its model, its declarations, no checks beyond them. */
const certManagerModel = async (kind) => ({
  Model: (await load(`${certManager}/${kind}.js`))[kind],
  types: join(modules, certManager, `${kind}.d.ts`),
  extra: () => {},
});
const models = {
  "cert-manager.io/v1/Certificate": await certManagerModel("Certificate"),
  "cert-manager.io/v1/Issuer": await certManagerModel("Issuer"),
  "cert-manager.io/v1/ClusterIssuer": await certManagerModel("ClusterIssuer"),
  "monitoring.coreos.com/v1/PrometheusRule": {
    Model: (await load(`${v1}/PrometheusRule.js`)).PrometheusRule,
    types: join(modules, v1, "PrometheusRule.d.ts"),
    extra: checkRules,
  },
  "monitoring.coreos.com/v1/PodMonitor": {
    Model: (await load(`${v1}/PodMonitor.js`)).PodMonitor,
    types: join(modules, v1, "PodMonitor.d.ts"),
    extra: checkPodMonitor,
  },
};

/** Client-side apply stores the whole object in an annotation limited to 256 KiB. */
const APPLY_ANNOTATION_LIMIT = 262144;
const SEVERITIES = new Set(["critical", "warning", "info"]);
const ALERT_ANNOTATIONS = ["summary", "description", "runbook_url"];

// ---------------------------------------------------------------------------------------
// Known fields, from the models' TypeScript declarations.

/** A field type: a leaf (string, number, ...), an object with known fields, an array, a map. */
const LEAF = { kind: "leaf" };
const typeCache = new Map();

/** The object type declared by the class in a `.d.ts` file, or LEAF for a type alias. */
function declaredType(file) {
  if (typeCache.has(file)) return typeCache.get(file);
  typeCache.set(file, LEAF); // breaks cycles (recursive types) until resolved
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) imports.set(name, m[2]);
  }
  const start = text.search(/export declare class \w+ extends Model</);
  let type = LEAF;
  if (start >= 0) {
    const open = text.indexOf("{", text.indexOf("implements", start));
    type = parseObject(text.slice(open + 1, matching(text, open)), { file, imports });
  }
  typeCache.set(file, type);
  return type;
}

/** Index of the brace closing the one at `open`. */
function matching(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if ("{<(".includes(text[i])) depth++;
    if ("}>)".includes(text[i]) && --depth === 0) return i;
  }
  throw new Error("unbalanced braces in a type declaration");
}

/** The fields of an object type's body: `"name"?: Type;` entries. */
function parseObject(body, ctx) {
  const fields = new Map();
  const entry = /^\s*"([^"]+)"(\?)?:\s*/;
  let rest = body;
  while (rest.trim()) {
    const m = rest.match(entry);
    if (!m) {
      // `static ...;`, `constructor(...);`: not fields.
      const end = statementEnd(rest, 0);
      rest = rest.slice(end + 1);
      continue;
    }
    const end = statementEnd(rest, m[0].length);
    const text = rest.slice(m[0].length, end).trim();
    // Resolved when first needed: the declarations are large and partly recursive.
    fields.set(m[1], { optional: m[2] === "?", type: () => parseType(text, ctx) });
    rest = rest.slice(end + 1);
  }
  return { kind: "object", fields };
}

/** Index of the `;` ending the statement that starts at `from`, at bracket depth 0. */
function statementEnd(text, from) {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if ("{<(".includes(c)) depth++;
    else if ("}>)".includes(c)) depth--;
    else if (c === ";" && depth === 0) return i;
  }
  return text.length;
}

function parseType(t, ctx) {
  const array = t.match(/^Array<([\s\S]*)>$/);
  if (array) return { kind: "array", items: parseType(array[1].trim(), ctx) };
  if (t.startsWith("{")) {
    const map = t.match(/^\{\s*\[key: string\]:\s*([\s\S]*);\s*\}$/);
    if (map) return { kind: "map", values: parseType(map[1].trim(), ctx) };
    return parseObject(t.slice(1, matching(t, 0)), ctx);
  }
  const from = ctx.imports.get(t);
  if (from) return declaredType(resolveImport(from, ctx.file));
  return LEAF; // string, number, boolean, literal unions
}

function resolveImport(spec, fromFile) {
  const base = spec.startsWith(".") ? resolve(dirname(fromFile), spec) : join(modules, spec);
  for (const candidate of [base.replace(/\.js$/, ".d.ts"), `${base}.d.ts`, join(base, "index.d.ts")]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find the declarations of ${spec} (imported by ${fromFile})`);
}

/** Every field of `value` not declared by `type`, as `path: message` strings. */
function unknownFields(value, type, path, errors) {
  if (value === null || typeof value !== "object") return errors;
  if (type.kind === "array" && Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, type.items, `${path}[${i}]`, errors));
  } else if (type.kind === "map") {
    for (const [k, v] of Object.entries(value)) unknownFields(v, type.values, `${path}.${k}`, errors);
  } else if (type.kind === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const field = type.fields.get(k);
      if (!field) {
        const known = [...type.fields.keys()].join(", ");
        errors.push(`${path}.${k}: unknown field (known here: ${known})`);
      } else {
        unknownFields(v, field.type(), `${path}.${k}`, errors);
      }
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------
// Checks beyond the schema.

function checkRules(obj, errors) {
  const groups = obj.spec?.groups ?? [];
  const groupNames = new Set();
  const records = new Set();
  groups.forEach((group, g) => {
    const at = `spec.groups[${g}]`;
    if (groupNames.has(group.name)) errors.push(`${at}.name: group ${group.name} appears twice`);
    groupNames.add(group.name);
    if (!group.rules?.length) errors.push(`${at}.rules: a group without rules`);
    (group.rules ?? []).forEach((rule, r) => {
      const here = `${at}.rules[${r}]`;
      if (typeof rule.expr !== "string" || !rule.expr.trim()) errors.push(`${here}.expr: missing or empty`);
      if (("alert" in rule) === ("record" in rule)) {
        errors.push(`${here}: needs exactly one of alert and record`);
      } else if ("record" in rule) {
        for (const k of ["for", "keep_firing_for", "annotations"]) {
          if (k in rule) errors.push(`${here}.${k}: not allowed in the recording rule ${rule.record}`);
        }
        if (!/^[a-zA-Z_]\w*:\w+:\w+$/.test(rule.record)) {
          errors.push(`${here}.record: ${rule.record} is not level:metric:operations`);
        }
        if (records.has(rule.record)) errors.push(`${here}.record: ${rule.record} is recorded twice`);
        records.add(rule.record);
      } else {
        if (!/^[A-Z][A-Za-z0-9]+$/.test(rule.alert)) errors.push(`${here}.alert: ${rule.alert} is not CamelCase`);
        const severity = rule.labels?.severity;
        if (!SEVERITIES.has(severity)) {
          errors.push(`${here}.labels.severity: ${severity} is not one of ${[...SEVERITIES].join(", ")}`);
        }
        for (const k of ALERT_ANNOTATIONS) {
          if (!rule.annotations?.[k]?.trim()) errors.push(`${here}.annotations.${k}: missing`);
        }
        const runbook = rule.annotations?.runbook_url ?? "";
        if (runbook && !/^https:\/\/\S+#[a-z0-9-]+$/.test(runbook)) {
          errors.push(`${here}.annotations.runbook_url: ${runbook} is not an https URL with an anchor`);
        }
      }
    });
  });
}

function checkPodMonitor(obj, errors) {
  const labels = obj.spec?.selector?.matchLabels ?? {};
  const expressions = obj.spec?.selector?.matchExpressions ?? [];
  if (!Object.keys(labels).length && !expressions.length) {
    errors.push("spec.selector: empty, it would scrape every pod of the namespace");
  }
  (obj.spec?.podMetricsEndpoints ?? []).forEach((ep, i) => {
    if (!ep.port && ep.portNumber === undefined) errors.push(`spec.podMetricsEndpoints[${i}]: no port`);
  });
}

function checkConfigMap(obj, errors) {
  const size = Buffer.byteLength(JSON.stringify(obj), "utf8");
  if (size > APPLY_ANNOTATION_LIMIT) {
    errors.push(`${size} bytes: over the ${APPLY_ANNOTATION_LIMIT} bytes client-side apply can annotate`);
  }
  if (obj.metadata?.labels?.grafana_dashboard !== undefined) {
    for (const [key, text] of Object.entries(obj.data ?? {})) {
      try {
        const dashboard = JSON.parse(text);
        if (!dashboard.uid || !dashboard.title) errors.push(`data.${key}: a dashboard without uid or title`);
      } catch (e) {
        errors.push(`data.${key}: not JSON: ${e.message}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------

const input = readFileSync(0, "utf8");
const docs = YAML.parseAllDocuments(input);
let failed = 0;
let checked = 0;
for (const doc of docs) {
  if (doc.errors.length) {
    console.error(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    failed++;
    continue;
  }
  const obj = doc.toJS();
  if (!obj) continue;
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const errors = [];
  const model = models[`${obj.apiVersion}/${obj.kind}`];
  if (model) {
    try {
      new model.Model(obj).validate();
    } catch (e) {
      errors.push(`schema: ${e.message}`);
    }
    unknownFields(obj, declaredType(model.types), obj.kind, errors);
    model.extra(obj, errors);
  } else if (obj.apiVersion === "v1" && obj.kind === "ConfigMap") {
    checkConfigMap(obj, errors);
  } else if (
    obj.apiVersion.includes(".") &&
    (obj.apiVersion.endsWith(".coreos.com/v1") || obj.apiVersion.startsWith("cert-manager.io/"))
  ) {
    errors.push(`no model for ${obj.apiVersion} ${obj.kind} in this validator: add it`);
  } else {
    continue; // core kinds: kubernetes-validate --strict covers them
  }
  checked++;
  if (errors.length) {
    failed++;
    for (const e of errors) console.error(`FAIL ${id}: ${e}`);
  } else {
    console.log(`ok   ${id}`);
  }
}
if (failed) {
  console.error(`validate-crds: ${failed} of ${checked} objects failed`);
  process.exit(1);
}
console.log(`validate-crds: ${checked} objects ok`);

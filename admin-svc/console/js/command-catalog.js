// The commands the send form offers, read from the API's own OpenAPI document so the console
// follows the server and keeps no copy of it: the `CommandSpec` schema (one variant per typed
// request type, each naming its `request_type`), `AppleCommand` (every request type of Apple's
// schema with Apple's keys, generated from the server's command catalogue) and
// `x-request-type-scopes` (the scopes a request type needs besides `commands`; a destructive one
// needs `destructive` and a reason).

import {openapiDocument, resolve} from './openapi.js';

/** An object schema with its allOf parts merged into one {properties, required}. */
function flatten(doc, schema, depth = 0) {
  const s = resolve(doc, schema);
  const out = {...s, properties: {...(s.properties || {})}, required: [...(s.required || [])]};
  delete out.allOf;
  for (const part of s.allOf || []) {
    if (depth > 10) break;
    const p = flatten(doc, part, depth + 1);
    Object.assign(out.properties, p.properties);
    out.required.push(...p.required);
    for (const key of Object.keys(p)) {
      if (!(key in out) || key.startsWith('x-')) out[key] = p[key];
    }
  }
  return out;
}

/** Every alternative of a oneOf/anyOf, nested ones included. */
function alternatives(doc, schema, depth = 0) {
  const s = resolve(doc, schema);
  const options = s.oneOf || s.anyOf;
  if (!options || depth > 5) return [s];
  return options.flatMap((option) => alternatives(doc, option, depth + 1));
}

/** The request type a variant is fixed to, through `const` or a one-value `enum`. */
function fixedRequestType(doc, variant) {
  const prop = variant.properties && resolve(doc, variant.properties.request_type);
  if (!prop) return null;
  if (typeof prop.const === 'string') return prop.const;
  if (Array.isArray(prop.enum) && prop.enum.length === 1) return prop.enum[0];
  return null;
}

/**
 * A field's schema in the plain shape the form builder reads: references followed, `T | null`
 * reduced to T (leaving a field empty already means null), array items resolved.
 */
export function fieldSchema(doc, schema, depth = 0) {
  let s = resolve(doc, schema);
  const options = s.oneOf || s.anyOf;
  if (options && depth < 5) {
    const real = options.map((o) => resolve(doc, o)).filter((o) => o.type !== 'null');
    if (real.length === 1) {
      const {oneOf, anyOf, ...rest} = s;
      s = {...fieldSchema(doc, real[0], depth + 1), ...rest};
    }
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== 'null');
    s = {...s, type: types.length === 1 ? types[0] : types};
  }
  if (s.items && depth < 5) s = {...s, items: fieldSchema(doc, s.items, depth + 1)};
  return s;
}

/** Typed variants found in the document, or [] when it has none. */
export function variantsFromDocument(doc) {
  const schemas = (doc && doc.components && doc.components.schemas) || {};
  const found = [];
  // `command` itself is an open object (it also takes Apple-keyed JSON and plists): the typed
  // commands are the variants of `CommandSpec`.
  const candidates = schemas.CommandSpec ? alternatives(doc, schemas.CommandSpec) : [];
  for (const alternative of candidates) {
    const variant = flatten(doc, alternative);
    const requestType = fixedRequestType(doc, variant);
    if (!requestType) continue;
    const properties = {};
    for (const [name, prop] of Object.entries(variant.properties)) {
      if (name !== 'request_type') properties[name] = fieldSchema(doc, prop);
    }
    found.push({
      requestType,
      description: variant.description || variant.title || '',
      schema: {
        type: 'object',
        properties,
        required: variant.required.filter((name) => name !== 'request_type'),
      },
    });
  }
  return found;
}

/** The one key of a `{"$data": …}` / `{"$date": …}` wrapper schema, or null. */
function wrapperKey(schema) {
  const keys = Object.keys((schema && schema.properties) || {});
  return schema && schema.type === 'object' && keys.length === 1 && keys[0].startsWith('$') ? keys[0] : null;
}

/** An Apple-keyed field as the form builder reads it: data as base64 text, dates as text. */
function appleField(doc, prop) {
  const s = fieldSchema(doc, prop);
  const wrapper = wrapperKey(s);
  if (wrapper === '$data') return {type: 'string', format: 'byte', 'x-wrap': wrapper};
  if (wrapper === '$date') {
    return {type: 'string', 'x-wrap': wrapper, description: 'An RFC 3339 time, e.g. 2026-12-01T09:00:00Z.'};
  }
  return s;
}

/** Where a request type runs, from its `x-platforms`: "Runs on iOS 4.0, macOS 10.7." */
function platformsText(variant) {
  const platforms = Object.entries(variant['x-platforms'] || {}).map(([os, since]) => `${os} ${since}`);
  return platforms.length ? `Runs on ${platforms.join(', ')} and later.` : '';
}

/** Every request type of `AppleCommand` not in `typed`: {requestType, description, schema, apple}. */
export function appleVariantsFromDocument(doc, typed = new Set()) {
  const schemas = (doc && doc.components && doc.components.schemas) || {};
  if (!schemas.AppleCommand) return [];
  const found = [];
  for (const alternative of alternatives(doc, schemas.AppleCommand)) {
    const variant = resolve(doc, alternative);
    const requestType = variant.title;
    if (typeof requestType !== 'string' || typed.has(requestType)) continue;
    const properties = {};
    for (const [name, prop] of Object.entries(variant.properties || {})) {
      if (name !== 'RequestType') properties[name] = appleField(doc, prop);
    }
    found.push({
      requestType,
      description: platformsText(variant),
      apple: true,
      schema: {
        type: 'object',
        properties,
        required: (variant.required || []).filter((name) => name !== 'RequestType'),
      },
    });
  }
  return found.sort((a, b) => a.requestType.localeCompare(b.requestType));
}

/** The command to send for a form's values: `{request_type, …}` typed, or Apple's keys with
 * data and dates wrapped as the API takes them. */
export function commandFor(entry, values) {
  if (!entry.apple) return {request_type: entry.requestType, ...values};
  const command = {RequestType: entry.requestType};
  for (const [name, value] of Object.entries(values)) {
    const wrap = entry.schema.properties[name] && entry.schema.properties[name]['x-wrap'];
    command[name] = wrap ? {[wrap]: value} : value;
  }
  return command;
}

let requestTypeScopes = {};

/** Whether a request type needs the `destructive` scope and a reason. */
export function isDestructive(requestType) {
  return scopesFor(requestType).includes('destructive');
}

/** The scopes a request type needs beyond `commands`. */
export function scopesFor(requestType) {
  const scopes = requestTypeScopes[requestType];
  return Array.isArray(scopes) ? scopes : [];
}

/** The commands to offer: {types: typed ones, others: the rest of Apple's schema}, each
 * {requestType, description, schema}. */
export async function loadCatalog() {
  const doc = await openapiDocument();
  requestTypeScopes = doc['x-request-type-scopes'] || {};
  const types = variantsFromDocument(doc);
  const others = appleVariantsFromDocument(doc, new Set(types.map((t) => t.requestType)));
  return {types, others};
}

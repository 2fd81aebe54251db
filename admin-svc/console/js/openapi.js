// The server's own OpenAPI document (GET /v1/openapi.json, public), read where the console
// should follow the server rather than a copy of it: the typed commands, upload flags.

import {api} from './api.js';

let documentPromise = null;

/** The OpenAPI document, fetched once per page load (it is public and large). */
export function openapiDocument() {
  if (!documentPromise) {
    documentPromise = api.openapi().catch((error) => {
      documentPromise = null;
      throw error;
    });
  }
  return documentPromise;
}

/** Follows a local `$ref` ("#/components/schemas/X"). */
export function resolve(doc, schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 20) return schema || {};
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    const target = schema.$ref.slice(2).split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), doc);
    const {$ref, ...rest} = schema;
    return resolve(doc, {...(target || {}), ...rest}, depth + 1);
  }
  return schema;
}

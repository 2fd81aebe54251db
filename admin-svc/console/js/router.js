// Hash routes: "#/devices/<id>?x=y". Each path segment is percent-encoded on its own, so an
// enrollment ID may hold '/', '?' or ':' and still come back whole.

/** {segments: ['devices', 'id'], query: URLSearchParams, rawQuery: 'x=y', hash: '#/…'} */
export function parseHash(hash = location.hash) {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = q === -1 ? body : body.slice(0, q);
  const rawQuery = q === -1 ? '' : body.slice(q + 1);
  const segments = path.split('/').filter((s) => s !== '').map(safeDecode);
  return {segments, query: new URLSearchParams(rawQuery), rawQuery, hash: `#/${body}`};
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** '#/devices/<id>' from ['devices', id]. */
export function path(...segments) {
  return `#/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** '#/devices?field=serial&q=X', leaving out empty values. */
export function withQuery(base, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

/**
 * The send page's target list: `devices=<id>,<id>` with each ID percent-encoded (so a comma or
 * a '+' inside an ID survives; URLSearchParams would turn '+' into a space).
 */
export function sendHash(ids) {
  return `#/send?devices=${ids.map((id) => encodeURIComponent(id)).join(',')}`;
}

export function devicesFromQuery(rawQuery) {
  for (const part of rawQuery.split('&')) {
    if (!part.startsWith('devices=')) continue;
    return part.slice('devices='.length).split(',').filter(Boolean).map(safeDecode);
  }
  return [];
}

/** Goes to a route; `replace` keeps the current one out of the history. */
export function go(hash, {replace = false} = {}) {
  if (replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

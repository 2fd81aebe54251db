// Every request the console makes goes through here, so the session rules hold everywhere:
// the cookie rides along (same origin only), each state-changing request carries the CSRF token
// the session handed out, and a 401 anywhere means the session is over.

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let sessionEndedHandler = () => {};

/** The token echoed in X-CSRF-Token; null when signed out. */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called once per 401 from an API call (not from signing in, where 401 means a wrong token). */
export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

/** A failed request: an HTTP status with the server's RFC 9457 problem, or no answer at all. */
export class ApiError extends Error {
  constructor(status, problem, cause) {
    super(problemText(status, problem, cause));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || null;
    this.code = problem && problem.code ? problem.code : null;
  }
}

function problemText(status, problem, cause) {
  if (status === 0) {
    return `The server could not be reached${cause && cause.message ? ` (${cause.message})` : ''}.`;
  }
  const said = problem && (problem.detail || problem.title);
  return said || `The server answered ${status}.`;
}

/**
 * What to show the person next to the control that failed: the server's own words, with a
 * 403 spelled out as a refusal so it is not mistaken for a fault.
 */
export function describeError(error) {
  if (!(error instanceof ApiError)) return error && error.message ? error.message : String(error);
  if (error.status === 403) return `Refused: ${error.message}`;
  return error.message;
}

/** Whether an error is just a navigation that cancelled the request: show nothing. */
export function isAbort(error) {
  return error && error.name === 'AbortError';
}

/**
 * request('GET', '/v1/devices', {query: {limit: 50}, signal})
 * Resolves to the parsed JSON (null for 204), rejects with ApiError or an AbortError.
 * `sessionCheck: false` keeps a 401 from ending the session (signing in, restoring it).
 */
export async function request(method, path, options = {}) {
  const {query, body, signal, sessionCheck = true} = options;
  const headers = {Accept: 'application/json, application/problem+json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let response;
  try {
    response = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (cause) {
    if (isAbort(cause)) throw cause;
    throw new ApiError(0, null, cause);
  }

  const payload = await readBody(response);
  if (response.ok) return payload;

  const problem = payload && typeof payload === 'object' ? payload : null;
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && sessionCheck) sessionEndedHandler(error);
  throw error;
}

async function readBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    // A proxy's HTML error page, say: keep its status, drop the body.
    return null;
  }
}

/** `?a=1&b=x` from an object, leaving out empty values. */
export function queryString(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A path segment: enrollment IDs hold ':' and may hold '/', '?', '#' or '%'. */
export function seg(value) {
  return encodeURIComponent(value);
}

// The endpoints, named, so pages read as what they do.
export const api = {
  summary: (signal) => request('GET', '/v1/summary', {signal}),

  devices: (query, signal) => request('GET', '/v1/devices', {query, signal}),
  device: (id, signal) => request('GET', `/v1/devices/${seg(id)}`, {signal}),
  deviceApps: (id, query, signal) => request('GET', `/v1/devices/${seg(id)}/apps`, {query, signal}),
  deviceCommands: (id, query, signal) =>
    request('GET', `/v1/devices/${seg(id)}/commands`, {query, signal}),
  approveReenrollment: (id, body) =>
    request('POST', `/v1/devices/${seg(id)}/approve-reenrollment`, {body}),

  enqueue: (body) => request('POST', '/v1/commands', {body}),
  command: (uuid, signal) => request('GET', `/v1/commands/${seg(uuid)}`, {signal}),
  deliveries: (uuid, query, signal) =>
    request('GET', `/v1/commands/${seg(uuid)}/deliveries`, {query, signal}),
  cancelCommand: (uuid) => request('POST', `/v1/commands/${seg(uuid)}/cancel`),

  push: (devices) => request('POST', '/v1/push', {body: {devices}}),
  pushCertificate: (signal) => request('GET', '/v1/push-certificate', {signal}),
  uploadPushCertificate: (body) => request('PUT', '/v1/push-certificate', {body}),

  enrollmentTokens: (query, signal) => request('GET', '/v1/enrollment-tokens', {query, signal}),
  createEnrollmentToken: (body) => request('POST', '/v1/enrollment-tokens', {body}),
  revokeEnrollmentToken: (id) => request('POST', `/v1/enrollment-tokens/${seg(id)}/revoke`),

  audit: (query, signal) => request('GET', '/v1/audit', {query, signal}),

  declarations: (query, signal) => request('GET', '/v1/declarations', {query, signal}),
  declaration: (id, signal) => request('GET', `/v1/declarations/${seg(id)}`, {signal}),
  declarationStatus: (id, query, signal) =>
    request('GET', `/v1/declarations/${seg(id)}/status`, {query, signal}),
  declarationSets: (query, signal) => request('GET', '/v1/declaration-sets', {query, signal}),

  // The document is public and large: callers cache it (see command-catalog.js).
  openapi: (signal) => request('GET', '/v1/openapi.json', {signal, sessionCheck: false}),
};

// The signed-in session as the server described it. The cookie itself is HttpOnly: all the
// browser knows is the name, scopes, CSRF token and expiry from /console/session, which decide
// which controls are shown (the server still checks every request).

import {request, setCsrfToken} from './api.js';

let current = null;

/** The session, or null when signed out. */
export function session() {
  return current;
}

/** Whether the session carries a scope (`read`, `commands`, `destructive`, ...). */
export function hasScope(scope) {
  return Boolean(current && Array.isArray(current.scopes) && current.scopes.includes(scope));
}

function adopt(answer) {
  current = answer && typeof answer === 'object' ? answer : null;
  setCsrfToken(current ? current.csrf_token : null);
  return current;
}

/** Reopens the session after a reload; null when there is none (401). */
export async function restore() {
  try {
    return adopt(await request('GET', '/console/session', {sessionCheck: false}));
  } catch (error) {
    if (error.status === 401) return adopt(null);
    throw error;
  }
}

/** Signs in with an admin token's secret; rejects with the server's problem (401: wrong token). */
export async function signIn(token) {
  return adopt(await request('POST', '/console/session', {body: {token}, sessionCheck: false}));
}

/** Ends the session on the server (best effort) and forgets it here. */
export async function signOut() {
  try {
    await request('DELETE', '/console/session', {sessionCheck: false});
  } finally {
    adopt(null);
  }
}

/** Forgets the session without asking the server: it already said the session is over. */
export function forget() {
  adopt(null);
}

// Boot and routing. The page shell (header, nav, main) is static HTML; each route renders into
// a fresh container inside <main>, with an AbortSignal that fires when the route is left so a
// page's fetches and refresh timers die with it.

import {onSessionEnded} from './js/api.js';
import {h, replace} from './js/dom.js';
import {parseHash, go} from './js/router.js';
import {session, restore, signOut, forget} from './js/session.js';
import {checkPushCertificateExpiry} from './js/expiry-banner.js';
import {refreshTimes, parseTime} from './js/format.js';
import * as signin from './js/pages/signin.js';
import * as dashboard from './js/pages/dashboard.js';
import * as devices from './js/pages/devices.js';
import * as device from './js/pages/device.js';
import * as send from './js/pages/send.js';
import * as command from './js/pages/command.js';
import * as enrollment from './js/pages/enrollment.js';
import * as push from './js/pages/push.js';
import * as audit from './js/pages/audit.js';
import * as declarations from './js/pages/declarations.js';
import * as declaration from './js/pages/declaration.js';

const PRODUCT = 'MDM console';

// [first segment, number of segments, page, params from the segments]
const ROUTES = [
  [undefined, 0, dashboard, () => ({})],
  ['signin', 1, signin, () => ({})],
  ['devices', 1, devices, () => ({})],
  ['devices', 2, device, (s) => ({id: s[1]})],
  ['send', 1, send, () => ({})],
  ['commands', 2, command, (s) => ({uuid: s[1]})],
  ['enrollment', 1, enrollment, () => ({})],
  ['push', 1, push, () => ({})],
  ['audit', 1, audit, () => ({})],
  ['declarations', 1, declarations, () => ({})],
  ['declarations', 2, declaration, (s) => ({id: s[1]})],
];

let current = null;          // {controller} of the page on screen
let returnTo = null;         // the route asked for before signing in
let signinNotice = null;     // {text, alert}: why the sign-in page is shown, if not first use
let firstRender = true;

function findRoute(segments) {
  for (const [first, length, page, params] of ROUTES) {
    if (segments.length === length && segments[0] === first) return {page, params: params(segments)};
  }
  return null;
}

function setTitle(title) {
  document.title = title ? `${title} · ${PRODUCT}` : PRODUCT;
}

function updateHeader() {
  const s = session();
  const whoami = document.getElementById('whoami');
  const signoutButton = document.getElementById('signout');
  if (s) {
    replace(whoami,
      h('span', {class: 'who-name'}, s.name), ' ',
      h('span', {class: 'who-scopes'}, `Scopes: ${(s.scopes || []).join(', ') || 'none'}`));
    const ends = parseTime(s.expires_at);
    if (ends) whoami.title = `This session ends ${ends.toLocaleString()} at the latest.`;
  } else {
    replace(whoami, h('span', {class: 'who-name'}, 'Not signed in'));
    whoami.removeAttribute('title');
  }
  signoutButton.hidden = !s;
}

function markNav(page) {
  for (const link of document.querySelectorAll('nav[aria-label="Main"] a')) {
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function render() {
  const route = parseHash();
  const found = findRoute(route.segments);
  const isSignin = found && found.page === signin;

  if (!session() && !isSignin) {
    // Remember where the person was going, and come back there after signing in.
    returnTo = route.hash === '#/' ? null : route.hash;
    go('#/signin', {replace: true});
    return;
  }
  if (session() && isSignin) {
    go('#/', {replace: true});
    return;
  }

  if (current) current.controller.abort();
  const controller = new AbortController();
  current = {controller};

  const main = document.getElementById('main');
  const root = h('div', {class: 'page'});
  replace(main, root);
  window.scrollTo(0, 0);

  const page = found ? found.page : null;
  markNav(page ? page.nav : null);
  setTitle(page ? page.title : 'Page not found');

  const ctx = {
    root,
    params: found ? found.params : {},
    query: route.query,
    rawQuery: route.rawQuery,
    signal: controller.signal,
    setTitle,
    // For the sign-in page.
    notice: signinNotice,
    afterSignIn: () => {
      signinNotice = null;
      updateHeader();
      checkPushCertificateExpiry();
      const target = returnTo || '#/';
      returnTo = null;
      go(target, {replace: true});
    },
  };

  // Keyboard and screen-reader users land on the new page's heading, not at the old link. Pages
  // put their <h1> up before their first await, so this happens before any data arrives (and
  // never takes focus from someone already typing into the page).
  const focusHeading = () => {
    if (firstRender || page === signin || controller.signal.aborted) return;
    const heading = root.querySelector('h1');
    if (!heading) return;
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus({preventScroll: true});
  };

  try {
    if (page) {
      const rendering = page.render(ctx);
      focusHeading();
      await rendering;
    } else {
      root.append(h('h1', {tabindex: '-1'}, 'Page not found'),
        h('p', null, 'There is no page at this address. ', h('a', {href: '#/'}, 'Go to the dashboard'), '.'));
      focusHeading();
    }
  } catch (error) {
    if (error && error.name === 'AbortError') return;
    // A page that failed outright still says so, in words.
    root.append(h('p', {class: 'error', role: 'alert'}, `This page failed: ${error && error.message ? error.message : error}`));
    console.error(error);
  } finally {
    firstRender = false;
  }
}

function sessionEnded() {
  if (!session()) return;
  forget();
  updateHeader();
  signinNotice = {text: 'Your session ended; sign in again.', alert: true};
  const route = parseHash();
  returnTo = route.hash === '#/' || route.hash === '#/signin' ? null : route.hash;
  go('#/signin', {replace: true});
}

async function boot() {
  onSessionEnded(sessionEnded);

  document.getElementById('signout').addEventListener('click', async () => {
    try {
      await signOut();
    } catch {
      // The session is forgotten here either way; the cookie expires on the server's clock.
    }
    updateHeader();
    signinNotice = {text: 'You signed out.', alert: false};
    returnTo = null;
    go('#/signin');
  });

  // The skip link must not become a route.
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('main').focus();
  });

  try {
    await restore();
  } catch (error) {
    signinNotice = {text: `The server could not be asked about your session: ${error.message}`, alert: true};
  }
  updateHeader();
  if (session()) checkPushCertificateExpiry();

  // Relative times ("3 minutes ago") age with the clock, not with requests.
  setInterval(() => {
    if (!document.hidden) refreshTimes(document.body);
  }, 30000);

  window.addEventListener('hashchange', render);
  if (!location.hash || location.hash === '#') history.replaceState(null, '', '#/');
  render();
}

boot();

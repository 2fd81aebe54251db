// One device: what it is, what it reported, how it is reached (enrollment, push target), its
// apps (loaded only when asked for) and its command history, which refreshes itself while a
// command is still waiting so the answer appears without a reload.

import {api, isAbort, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {timeEl, yesNo, gigabytes, percent, count, text, bytes} from '../format.js';
import {loading, failure, empty, rowNotice} from '../notice.js';
import {facts} from '../facts.js';
import {badge} from '../badges.js';
import {Pager} from '../pager.js';
import {poll} from '../poller.js';
import {sendHash} from '../router.js';
import {hasScope} from '../session.js';
import {deviceLabel} from '../device-names.js';
import {DeliveryBody, deliveryHeaders} from '../delivery-rows.js';
import {confirmAction} from '../confirm-dialog.js';

export const title = 'Device';
export const nav = 'devices';

const PAGE_SIZE = 50;
const HISTORY_REFRESH_MS = 3000;

const mono = (value) => (value ? h('span', {class: 'mono'}, value) : '—');

function section(id, heading, ...content) {
  return h('section', {class: 'card', 'aria-labelledby': `${id}-heading`},
    h('h2', {id: `${id}-heading`}, heading), ...content);
}

function deviceFacts(d) {
  const user = [d.user_long_name, d.user_short_name ? `(${d.user_short_name})` : null].filter(Boolean).join(' ');
  const os = [d.os_version, d.build_version ? `build ${d.build_version}` : null].filter(Boolean).join(', ');
  return facts('device-facts', [
    ['Name', text(d.device_name)],
    ['Serial number', mono(d.serial_number)],
    ['UDID / enrollment ID', mono(d.enrollment_id)],
    d.device_id && d.device_id !== d.enrollment_id ? ['Device channel', mono(d.device_id)] : null,
    ['User', user || (d.user_id ? mono(d.user_id) : '—')],
    ['Model', text([...new Set([d.model_name, d.model].filter(Boolean))].join(' · '))],
    ['Product name', mono(d.product_name)],
    ['OS', text(os)],
    ['Status', badge(d.status)],
    ['Awaiting configuration', yesNo(d.awaiting_configuration)],
    ['Created', timeEl(d.created_at)],
    ['Authenticated', timeEl(d.authenticated_at)],
    ['Last seen', timeEl(d.last_seen_at, {empty: 'never'})],
    ['Has unlock token', yesNo(d.has_unlock_token)],
    ['Has bootstrap token', yesNo(d.has_bootstrap_token)],
    d.imei ? ['IMEI', mono(d.imei)] : null,
    d.meid ? ['MEID', mono(d.meid)] : null,
  ]);
}

function inventory(inv = {}) {
  const known = Object.values(inv).some((v) => v !== null && v !== undefined);
  return [
    facts('device-inventory', [
      ['Storage capacity', gigabytes(inv.capacity_gb)],
      ['Storage available', gigabytes(inv.available_gb)],
      ['Battery', percent(inv.battery_level)],
      ['Supervised', yesNo(inv.supervised)],
      ['Storage encrypted', yesNo(inv.encrypted)],
      ['Passcode set', yesNo(inv.passcode_present)],
      ['Apps', count(inv.app_count)],
      ['Updated', timeEl(inv.updated_at, {empty: 'never'})],
    ]),
    known ? null : h('p', {class: 'hint'},
      'The device has not reported yet: DeviceInformation, SecurityInfo and InstalledApplicationList fill this in.'),
  ];
}

function enrollmentFacts(d) {
  return facts('device-enrollment', [
    ['Status', badge(d.status)],
    ['Authenticated', timeEl(d.authenticated_at)],
    ['Enrolled (last TokenUpdate)', timeEl(d.token_updated_at, {empty: 'not yet'})],
    d.checked_out_at ? ['Checked out', timeEl(d.checked_out_at)] : null,
    ['Push topic', mono(d.topic)],
    ['Push magic known', yesNo(d.has_push_magic)],
    ['Identity certificate (SHA-256)', mono(d.cert_sha256)],
    ...identityFacts(d.identity_certificate, d.cert_sha256),
    ['Enrollment generation', count(d.generation)],
  ]);
}

// How the device got its identity, and until when it can use it: when the certificate expires
// the device can no longer connect, so the days left matter more than the date.
const FLOWS = {ota: 'over the air (OTA profile)', enrollment: 'enrollment profile', direct: 'direct profile'};

function identityFacts(cert, sha256) {
  if (!cert) {
    return sha256 ? [['Identity issued', 'elsewhere (pre-issued or migrated, not through this server\'s enrollment)']] : [];
  }
  const daysLeft = Math.floor((Date.parse(cert.not_after) - Date.now()) / 86_400_000);
  const expiry = [timeEl(cert.not_after, {withRelative: false}), ' ',
    h('span', {class: daysLeft < 30 ? 'warning' : 'hint'},
      daysLeft < 0 ? '(expired)' : `(${daysLeft} days left)`)];
  return [
    ['Enrolled by', FLOWS[cert.flow] || text(cert.flow)],
    ['Identity issued', timeEl(cert.issued_at)],
    ['Identity expires', h('span', {id: 'device-identity-expiry'}, ...expiry)],
    ['Certificate serial', mono(cert.serial)],
    cert.revoked_at ? ['Revoked', [timeEl(cert.revoked_at), ' ', text(cert.revocation_reason, '')]] : null,
  ];
}

function pushFacts(p) {
  if (!p) return h('p', {id: 'device-push', class: 'empty'}, 'No push target: the device has not sent a TokenUpdate.');
  return facts('device-push', [
    ['State', badge(p.status)],
    p.flag ? ['Flag', p.flag] : null,
    ['Topic', mono(p.topic)],
    ['APNs token', h('span', {class: 'mono wrap'}, p.token)],
    ['Registered', timeEl(p.registered_at)],
    ['Last connected', timeEl(p.last_seen_at, {empty: 'never'})],
    ['Last push', timeEl(p.last_push_at, {empty: 'never'})],
    ['Last push outcome', text(p.last_outcome)],
    p.last_reason ? ['APNs reason', p.last_reason] : null,
    p.inactive_since ? ['Inactive since', timeEl(p.inactive_since)] : null,
  ]);
}

/** The apps list, fetched the first time the section is opened. */
function appsSection(id, signal, appCount) {
  const tbody = h('tbody');
  const problem = h('p', {class: 'error', role: 'alert'});
  const table = h('table', {id: 'apps-table', class: 'data'},
    h('caption', {class: 'visually-hidden'}, 'Installed apps'),
    h('thead', null, h('tr', null, ['Name', 'Identifier', 'Version', 'Build', 'Size']
      .map((label) => h('th', {scope: 'col'}, label)))),
    tbody);
  const pager = new Pager('apps', async (cursor) => {
    replace(tbody, rowNotice(5, 'Loading apps…', 'loading'));
    problem.textContent = '';
    try {
      const page = await api.deviceApps(id, {limit: PAGE_SIZE, cursor}, signal);
      const items = page.items || [];
      replace(tbody, items.length ? items.map((a) => h('tr', null,
        h('td', null, text(a.name)),
        h('td', {class: 'mono'}, a.identifier),
        h('td', null, text(a.version)),
        h('td', null, text(a.build)),
        h('td', {class: 'num'}, bytes(a.size_bytes))))
        : rowNotice(5, 'No apps reported: send InstalledApplicationList to list them.'));
      return page.next_cursor || null;
    } catch (error) {
      if (!isAbort(error)) {
        replace(tbody, rowNotice(5, 'The apps could not be loaded.', 'error'));
        problem.textContent = describeError(error);
      }
      return null;
    }
  });
  const details = h('details', {id: 'device-apps', class: 'card'},
    h('summary', null, h('h2', {class: 'inline'}, `Installed apps${typeof appCount === 'number' ? ` (${count(appCount)})` : ''}`)),
    problem, h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Installed apps table'}, table),
    pager.element);
  let loaded = false;
  details.addEventListener('toggle', () => {
    if (details.open && !loaded) {
      loaded = true;
      pager.first();
    }
  });
  return details;
}

/** Buttons that act on this device, each with its outcome said next to it. */
function actions(d) {
  const canCommand = hasScope('commands');
  const canDestroy = hasScope('destructive');
  if (!canCommand && !canDestroy) return null;
  const result = h('p', {id: 'device-action-result', role: 'status', class: 'notice'});
  const bar = h('div', {class: 'toolbar'});
  if (canCommand) {
    bar.append(h('a', {id: 'send-command', class: 'button-link primary', href: sendHash([d.enrollment_id])}, 'Send a command'));
    const pushButton = h('button', {type: 'button', id: 'push-device', class: 'secondary'}, 'Wake it now (push)');
    pushButton.addEventListener('click', async () => {
      pushButton.disabled = true;
      result.className = 'notice';
      result.textContent = 'Pushing…';
      try {
        const answer = await api.push([d.enrollment_id]);
        const r = (answer.results || [])[0];
        result.textContent = answer.certificate_error
          ? `Not pushed: ${answer.certificate_error}`
          : r ? `Push: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}.` : 'Pushed.';
      } catch (error) {
        result.className = 'error';
        result.textContent = describeError(error);
      } finally {
        pushButton.disabled = false;
      }
    });
    bar.append(pushButton);
  }
  if (canDestroy && d.status !== 'checked_out') {
    const approve = h('button', {type: 'button', id: 'approve-reenrollment', class: 'secondary'},
      'Approve re-enrollment…');
    approve.addEventListener('click', async () => {
      const reason = h('textarea', {id: 'approve-reason', rows: '3', required: true});
      const ok = await confirmAction({
        title: 'Approve re-enrollment?',
        danger: true,
        ok: 'Approve',
        body: [
          h('p', null, 'The device\'s next Authenticate may bind a new certificate, once. Whoever presents it takes over this device\'s management channel: approve only when you know the device is in the right hands.'),
          h('div', {class: 'field'}, h('label', {for: 'approve-reason'}, 'Reason (required; kept in the audit log)'), reason),
        ],
      });
      const why = reason.value.trim();
      if (!ok) return;
      if (!why) {
        result.className = 'error';
        result.textContent = 'Not approved: a reason is required.';
        return;
      }
      try {
        const answer = await api.approveReenrollment(d.enrollment_id, {reason: why});
        result.className = 'notice';
        replace(result, 'Re-enrollment approved until ', timeEl(answer.expires_at), '.');
      } catch (error) {
        result.className = 'error';
        result.textContent = describeError(error);
      }
    });
    bar.append(approve);
  }
  return [bar, result];
}

function historySection(id, signal) {
  const body = new DeliveryBody('command', 'No command was ever queued for this device.');
  const problem = h('p', {class: 'error', role: 'alert', id: 'history-error'});
  const live = h('p', {class: 'hint', role: 'status', 'aria-live': 'polite'});
  const table = h('table', {id: 'device-history', class: 'data'},
    h('caption', null, 'Commands for this device, newest first'),
    h('thead', null, deliveryHeaders('command')), body.element);
  let poller = null;
  let anyQueued = false;

  async function load(cursor) {
    problem.textContent = '';
    const page = await api.deviceCommands(id, {limit: PAGE_SIZE, cursor}, signal);
    const items = page.items || [];
    body.show(items);
    anyQueued = items.some((d) => d.status === 'queued');
    live.textContent = anyQueued ? 'Some commands are still waiting for the device; this list refreshes every 3 seconds.' : '';
    return page.next_cursor || null;
  }

  const pager = new Pager('history', async (cursor) => {
    body.notice('Loading the history…');
    try {
      const next = await load(cursor);
      watch();
      return next;
    } catch (error) {
      if (!isAbort(error)) {
        body.notice('The history could not be loaded.', 'error');
        problem.textContent = describeError(error);
      }
      return null;
    }
  });

  // Poll only while a row on the page shown is still queued.
  function watch() {
    if (anyQueued && (!poller || !poller.running)) {
      poller = poll(signal, HISTORY_REFRESH_MS, async () => {
        try {
          pager.next = await load(pager.cursor);
          pager.update();
        } catch (error) {
          if (!isAbort(error)) problem.textContent = `Refreshing failed: ${describeError(error)}`;
          throw error;
        }
        return anyQueued;
      });
    }
  }

  const element = section('history', 'Command history',
    problem, h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Command history table'}, table),
    pager.element, live);
  return {element, start: () => pager.first()};
}

export async function render(ctx) {
  const id = ctx.params.id;
  const heading = h('h1', null, 'Device');
  const page = h('div', {id: 'device-page', 'aria-busy': 'true'}, loading('Loading the device…'));
  ctx.root.append(heading, page);

  let d;
  try {
    d = await api.device(id, ctx.signal);
  } catch (error) {
    if (isAbort(error)) return;
    page.removeAttribute('aria-busy');
    replace(page, error.status === 404
      ? empty(`No device has the enrollment ID ${id}.`)
      : failure(error));
    page.append(h('p', null, h('a', {href: '#/devices'}, 'Back to the devices')));
    return;
  }

  const label = deviceLabel(d);
  heading.textContent = label;
  ctx.setTitle(`${label} (device)`);
  const history = historySection(id, ctx.signal);

  replace(page,
    h('p', {class: 'subtitle'}, badge(d.status), ' ', h('span', {class: 'mono'}, d.enrollment_id)),
    actions(d),
    h('div', {class: 'grid'},
      section('facts', 'Device', deviceFacts(d)),
      section('inventory', 'Inventory', inventory(d.inventory || {})),
      section('enrollment', 'Enrollment', enrollmentFacts(d)),
      section('push', 'Push target', pushFacts(d.push))),
    history.element,
    appsSection(id, ctx.signal, d.inventory ? d.inventory.app_count : null));
  page.removeAttribute('aria-busy');
  await history.start();
}

// The fleet at a glance, from one call (/v1/summary): how many devices are in each state, what
// is in flight, what failed lately, and whether the push certificate is still good.

import {api, isAbort} from '../api.js';
import {h, replace} from '../dom.js';
import {count, timeEl} from '../format.js';
import {loading, failure, empty} from '../notice.js';
import {path, withQuery} from '../router.js';
import {badge} from '../badges.js';
import {errorSummary} from '../result-tree.js';
import {facts} from '../facts.js';
import {showExpiry} from '../expiry-banner.js';

export const title = 'Dashboard';
export const nav = 'dashboard';

function stat(label, value, href, id) {
  const number = h('span', {class: 'stat-value'}, count(value));
  return h('li', {class: 'stat', id},
    href ? h('a', {href}, number, h('span', {class: 'stat-label'}, label)) : [number, h('span', {class: 'stat-label'}, label)]);
}

// "Inactive" is the server's count of push targets it stopped pushing; no device search matches
// it exactly, so it links nowhere rather than to a list that would disagree with it.
function deviceCounts(d) {
  return h('section', {class: 'card', 'aria-labelledby': 'devices-heading'},
    h('h2', {id: 'devices-heading'}, 'Devices'),
    h('ul', {class: 'stats'},
      stat('Enrolled', d.enrolled, withQuery('#/devices', {status: 'enrolled'}), 'stat-enrolled'),
      stat('Authenticated, not enrolled yet', d.authenticated, withQuery('#/devices', {status: 'authenticated'}), 'stat-authenticated'),
      stat('Checked out', d.checked_out, withQuery('#/devices', {status: 'checked_out'}), 'stat-checked-out'),
      stat('Total', d.total, '#/devices', 'stat-total'),
      stat('Seen in the last 24 h', d.seen_last_24h, withQuery('#/devices', {seen: '24h'}), 'stat-seen-24h'),
      stat('Inactive (no longer pushed)', d.inactive, null, 'stat-inactive'),
      // A device whose identity lapses stops being managed: worth seeing before it happens.
      stat('Identities expiring within 30 days', d.identities_expiring_30d, null, 'stat-identities-expiring')));
}

function recentErrors(c) {
  const list = Array.isArray(c.recent_errors) ? c.recent_errors : [];
  return h('section', {class: 'card', 'aria-labelledby': 'commands-heading'},
    h('h2', {id: 'commands-heading'}, 'Commands'),
    h('ul', {class: 'stats'},
      stat('In flight (queued deliveries)', c.in_flight, null, 'stat-in-flight'),
      stat('Errors in the last 24 h', c.errors_last_24h, null, 'stat-errors-24h')),
    h('h3', null, 'Recent errors'),
    list.length === 0
      ? empty('No command failed recently.')
      : h('ul', {class: 'recent-errors', id: 'recent-errors'}, list.map((d) => {
        const why = errorSummary(d.result);
        return h('li', null,
          badge(d.status), ' ',
          h('a', {href: path('commands', d.command_uuid)}, d.request_type), ' on ',
          h('a', {href: path('devices', d.enrollment_id), class: 'mono'}, d.enrollment_id), ' ',
          timeEl(d.completed_at || d.queued_at, {relativeOnly: true}),
          why ? h('div', {class: 'error-line'}, why) : null);
      })));
}

function pushCertificate(cert) {
  const body = cert
    ? facts('dashboard-push', [
      ['Topic', h('span', {class: 'mono'}, cert.topic)],
      ['Expires', [timeEl(cert.not_after), ` — ${cert.days_left < 0 ? 'expired' : `${count(cert.days_left)} days left`}`]],
      ['Environment', cert.environment],
      cert.last_error ? ['Last APNs refusal', [cert.last_error, ' ', timeEl(cert.last_error_at, {relativeOnly: true})]] : null,
    ])
    : h('p', null, 'No push certificate is installed: devices cannot be woken. ',
      h('a', {href: '#/push'}, 'Install one on the Push page'), '.');
  return h('section', {class: 'card', 'aria-labelledby': 'push-heading'},
    h('h2', {id: 'push-heading'}, 'Push certificate'), body,
    cert ? h('p', null, h('a', {href: '#/push'}, 'Details and renewal')) : null);
}

export async function render(ctx) {
  const board = h('div', {id: 'dashboard', 'aria-busy': 'true'}, loading('Loading the summary…'));
  ctx.root.append(h('h1', null, 'Dashboard'), board);
  let summary;
  try {
    summary = await api.summary(ctx.signal);
  } catch (error) {
    if (isAbort(error)) return;
    replace(board, failure(error));
    board.removeAttribute('aria-busy');
    return;
  }
  replace(board,
    h('div', {class: 'grid'},
      deviceCounts(summary.devices || {}),
      recentErrors(summary.commands || {}),
      pushCertificate(summary.push_certificate || null)));
  board.removeAttribute('aria-busy');
  // The summary is fresher than the check made at boot.
  const banner = document.getElementById('expiry-banner');
  if (banner && summary.push_certificate) showExpiry(banner, summary.push_certificate);
}

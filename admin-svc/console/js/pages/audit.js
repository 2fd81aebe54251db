// The audit log, newest first: who did what consequential thing to which device, and why.
// Filtered on the server by action and device; the filters live in the URL.

import {api, isAbort, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {timeEl, text} from '../format.js';
import {rowNotice} from '../notice.js';
import {Pager} from '../pager.js';
import {path, withQuery, go} from '../router.js';

export const title = 'Audit log';
export const nav = 'audit';

const PAGE_SIZE = 50;
const ACTION_PATTERN = /^[a-z_.]+$/;
// The actions the services write (mdm-api AuditEntry.action, and admin-svc's console sessions),
// offered as suggestions; any other is accepted too.
const KNOWN_ACTIONS = ['command.queued', 'command.cancelled', 'enrollment.rebind_refused',
  'enrollment.reenrollment_approved', 'certificate.revoked', 'admin_token.created', 'admin_token.revoked',
  'console.signed_in', 'console.signed_out'];
const COLUMNS = ['Time', 'Source', 'Actor', 'Action', 'Device', 'Request type', 'Command', 'Detail'];

export async function render(ctx) {
  const state = {action: ctx.query.get('action') || '', device: ctx.query.get('device') || ''};

  const action = h('input', {id: 'audit-action', name: 'action', type: 'text', list: 'audit-actions',
    value: state.action, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'audit-action-hint'});
  const device = h('input', {id: 'audit-device', name: 'device', type: 'text', value: state.device,
    autocomplete: 'off', spellcheck: 'false'});
  const formError = h('p', {class: 'error', role: 'alert', id: 'audit-error'});
  const form = h('form', {id: 'audit-filter', class: 'card search-form', role: 'search', novalidate: true},
    h('div', {class: 'field grow'}, h('label', {for: 'audit-action'}, 'Action'), action,
      h('datalist', {id: 'audit-actions'}, KNOWN_ACTIONS.map((a) => h('option', {value: a}))),
      h('p', {class: 'hint', id: 'audit-action-hint'}, 'Exactly, e.g. command.queued.')),
    h('div', {class: 'field grow'}, h('label', {for: 'audit-device'}, 'Device (enrollment ID)'), device),
    h('div', {class: 'field buttons'},
      h('button', {type: 'submit', id: 'audit-submit', class: 'primary'}, 'Filter'),
      h('a', {href: '#/audit', class: 'button-link secondary'}, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const a = action.value.trim();
    if (a && !ACTION_PATTERN.test(a)) {
      formError.textContent = 'An action is lowercase letters, dots and underscores, e.g. command.queued.';
      action.focus();
      return;
    }
    go(withQuery('#/audit', {action: a, device: device.value.trim()}));
  });

  const tbody = h('tbody');
  const table = h('table', {id: 'audit-table', class: 'data'},
    h('caption', null, state.action || state.device ? 'Audit entries matching the filter, newest first' : 'Audit entries, newest first'),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', {scope: 'col'}, c)))),
    tbody);

  function row(e) {
    const actorDevice = e.actor && e.actor.startsWith('device:') ? e.actor.slice('device:'.length) : null;
    return h('tr', null,
      h('td', null, timeEl(e.at, {relativeOnly: false})),
      h('td', null, e.source),
      h('td', null, actorDevice ? ['device ', h('a', {href: path('devices', actorDevice), class: 'mono'}, actorDevice)] : e.actor),
      h('td', {class: 'mono'}, e.action),
      h('td', null, e.enrollment_id ? h('a', {href: path('devices', e.enrollment_id), class: 'mono device-link'}, e.enrollment_id) : '—'),
      h('td', null, text(e.request_type)),
      h('td', null, e.command_uuid ? h('a', {href: path('commands', e.command_uuid), class: 'mono command-link'}, e.command_uuid) : '—'),
      h('td', {class: 'detail'}, text(e.detail)));
  }

  const pager = new Pager('audit', async (cursor) => {
    replace(tbody, rowNotice(COLUMNS.length, 'Loading the audit log…', 'loading'));
    formError.textContent = '';
    try {
      const page = await api.audit({limit: PAGE_SIZE, cursor, action: state.action || undefined,
        enrollment_id: state.device || undefined}, ctx.signal);
      const items = page.items || [];
      replace(tbody, items.length ? items.map(row)
        : rowNotice(COLUMNS.length, state.action || state.device ? 'No audit entries match.' : 'The audit log is empty.'));
      return page.next_cursor || null;
    } catch (error) {
      if (!isAbort(error)) {
        replace(tbody, rowNotice(COLUMNS.length, 'The audit log could not be loaded.', 'error'));
        formError.textContent = describeError(error);
      }
      return null;
    }
  });

  ctx.root.append(h('h1', null, 'Audit log'), form, formError,
    h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Audit log table'}, table),
    pager.element);
  await pager.first();
}

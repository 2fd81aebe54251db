// Enrollment tokens: make one (its secret and URLs are shown once, with a QR code for the
// iPhone's camera), list them, revoke them. Revoking stops the URLs; enrolled devices stay.

import {api, isAbort, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {timeEl, count, text, parseTime} from '../format.js';
import {rowNotice} from '../notice.js';
import {badge} from '../badges.js';
import {Pager} from '../pager.js';
import {hasScope} from '../session.js';
import {confirmAction} from '../confirm-dialog.js';

export const title = 'Enrollment';
export const nav = 'enrollment';

const PAGE_SIZE = 50;
const MAX_DAYS = 365; // the API takes at most a year (ttl_seconds ≤ 31,536,000)

function tokenState(t) {
  if (t.revoked_at) return ['revoked', 'revoked'];
  const expires = parseTime(t.expires_at);
  if (expires && expires.getTime() <= Date.now()) return ['expired', 'expired'];
  if (t.max_uses !== null && t.max_uses !== undefined && t.uses >= t.max_uses) return ['used_up', 'used up'];
  return ['active', 'active'];
}

function copyButton(label, value, status, name = label.toLowerCase()) {
  return h('button', {type: 'button', class: 'secondary small', onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = `${label} copied.`;
    } catch {
      status.textContent = `Copying is not allowed here: select the ${name} and copy it.`;
    }
  }}, `Copy ${name}`);
}

function createdPanel(created) {
  const status = h('p', {class: 'hint', role: 'status'});
  const qrSource = `/console/qr.svg?text=${encodeURIComponent(created.enrollment_url)}`;
  return h('section', {id: 'enrollment-created', class: 'card highlight', 'aria-labelledby': 'created-heading', tabindex: '-1'},
    h('h2', {id: 'created-heading'}, `Enrollment token made: ${created.token.description || created.token.id}`),
    h('p', {class: 'warning'}, h('strong', null, 'Shown only now. '),
      'The secret and these URLs cannot be shown again: copy them (or save the profile) before leaving this page.'),
    h('div', {class: 'created-grid'},
      h('div', null,
        h('h3', null, 'Secret'),
        h('p', null, h('code', {id: 'enrollment-secret', class: 'secret'}, created.secret), ' ',
          copyButton('Secret', created.secret, status)),
        h('h3', null, 'Enrollment URL (open it on the device)'),
        h('p', null, h('a', {id: 'enrollment-url', href: created.enrollment_url, class: 'mono wrap',
          rel: 'noopener noreferrer'}, created.enrollment_url), ' ',
        copyButton('URL', created.enrollment_url, status, 'URL')),
        h('h3', null, 'Profile (for tools and Macs)'),
        h('p', null, h('a', {id: 'profile-url', href: created.profile_url, download: 'enrollment.mobileconfig',
          rel: 'noopener noreferrer'}, 'Download the enrollment profile')),
        status),
      h('figure', {class: 'qr'},
        h('img', {id: 'enrollment-qr', src: qrSource, alt: 'QR code of the enrollment URL', width: '220', height: '220'}),
        h('figcaption', null, 'Open the camera on the iPhone or iPad and point it at this code to enroll it.'))));
}

export async function render(ctx) {
  const canChange = hasScope('commands');
  ctx.root.append(h('h1', null, 'Enrollment'));

  const createdHolder = h('div');
  let reloadList = () => {};

  if (canChange) {
    const description = h('input', {id: 'enrollment-description', type: 'text', maxlength: '1024', autocomplete: 'off'});
    const user = h('input', {id: 'enrollment-user', type: 'text', maxlength: '256', autocomplete: 'off',
      'aria-describedby': 'enrollment-user-hint'});
    const uses = h('input', {id: 'enrollment-uses', type: 'number', min: '1', max: '1000000', step: '1', value: '1',
      inputmode: 'numeric'});
    const unlimited = h('input', {id: 'enrollment-unlimited', type: 'checkbox',
      onchange: () => { uses.disabled = unlimited.checked; }});
    const days = h('input', {id: 'enrollment-days', type: 'number', min: '1', max: String(MAX_DAYS), step: '1',
      value: '7', inputmode: 'numeric'});
    const error = h('p', {id: 'enrollment-error', class: 'error', role: 'alert'});
    const submit = h('button', {id: 'enrollment-create', type: 'submit', class: 'primary'}, 'Create enrollment token');

    const form = h('form', {id: 'enrollment-create-form', class: 'card', novalidate: true},
      h('h2', null, 'New enrollment token'),
      h('div', {class: 'row'},
        h('div', {class: 'field grow'}, h('label', {for: 'enrollment-description'}, 'Description (shown in the list)'), description),
        h('div', {class: 'field'}, h('label', {for: 'enrollment-user'}, 'User name (optional)'), user,
          h('p', {class: 'hint', id: 'enrollment-user-hint'}, 'The user the devices enrolled with it belong to.'))),
      h('div', {class: 'row'},
        h('div', {class: 'field'}, h('label', {for: 'enrollment-uses'}, 'Number of enrollments'), uses),
        h('div', {class: 'field checkbox align-end'}, unlimited,
          h('label', {for: 'enrollment-unlimited'}, 'Unlimited (until it expires)')),
        h('div', {class: 'field'}, h('label', {for: 'enrollment-days'}, `Expires after (days, 1 to ${MAX_DAYS})`), days)),
      error,
      h('div', {class: 'buttons'}, submit));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const body = {description: description.value.trim()};
      if (user.value.trim()) body.user_name = user.value.trim();
      if (unlimited.checked) {
        body.unlimited = true;
      } else {
        const n = Number(uses.value);
        if (!Number.isInteger(n) || n < 1 || n > 1000000) {
          error.textContent = 'The number of enrollments must be a whole number from 1 to 1,000,000, or unlimited.';
          uses.focus();
          return;
        }
        body.max_uses = n;
      }
      const d = Number(days.value);
      if (!Number.isInteger(d) || d < 1 || d > MAX_DAYS) {
        error.textContent = `The expiry must be a whole number of days from 1 to ${MAX_DAYS}.`;
        days.focus();
        return;
      }
      body.expiry = {ttl_seconds: d * 24 * 3600};

      submit.disabled = true;
      try {
        const created = await api.createEnrollmentToken(body);
        const panel = createdPanel(created);
        replace(createdHolder, panel);
        panel.focus();
        form.reset();
        uses.disabled = false;
        reloadList();
      } catch (failure) {
        error.textContent = describeError(failure);
      } finally {
        submit.disabled = false;
      }
    });
    ctx.root.append(form);
  }
  ctx.root.append(createdHolder);

  // The list.
  const includeInactive = h('input', {id: 'enrollment-include-inactive', type: 'checkbox'});
  const problem = h('p', {class: 'error', role: 'alert', id: 'enrollment-list-error'});
  const actionStatus = h('p', {role: 'status', class: 'notice', id: 'enrollment-action-result'});
  const columns = ['Description', 'User', 'Uses', 'Created', 'Expires', 'State'];
  if (canChange) columns.push('Actions');
  const tbody = h('tbody');
  const table = h('table', {id: 'enrollment-tokens', class: 'data'},
    h('caption', null, 'Enrollment tokens, newest first'),
    h('thead', null, h('tr', null, columns.map((c) => h('th', {scope: 'col'}, c)))),
    tbody);

  async function revoke(t, button) {
    const ok = await confirmAction({
      title: 'Revoke this enrollment token?',
      danger: true,
      ok: 'Revoke',
      body: [
        h('p', null, h('strong', null, t.description || t.id)),
        h('p', null, 'Its enrollment URL and profile stop working at once. Devices already enrolled with it stay enrolled.'),
      ],
    });
    if (!ok) return;
    button.disabled = true;
    actionStatus.className = 'notice';
    try {
      await api.revokeEnrollmentToken(t.id);
      actionStatus.textContent = `Revoked “${t.description || t.id}”.`;
      await pager.refresh();
    } catch (error) {
      actionStatus.className = 'error';
      actionStatus.textContent = describeError(error);
      button.disabled = false;
    }
  }

  function row(t) {
    const [state, label] = tokenState(t);
    const cells = [
      h('td', null, text(t.description, '(no description)')),
      h('td', null, text(t.user_name)),
      h('td', {class: 'num'}, `${count(t.uses)} of ${t.max_uses === null || t.max_uses === undefined ? 'unlimited' : count(t.max_uses)}`),
      h('td', null, timeEl(t.created_at, {relativeOnly: true}), t.created_by ? h('span', {class: 'hint'}, ` by ${t.created_by}`) : null),
      h('td', null, state === 'revoked' ? ['revoked ', timeEl(t.revoked_at, {relativeOnly: true})] : timeEl(t.expires_at)),
      h('td', null, badge(state, label)),
    ];
    if (canChange) {
      const button = h('button', {type: 'button', class: 'revoke-token danger small'},
        'Revoke', h('span', {class: 'visually-hidden'}, ` ${t.description || t.id}`));
      button.addEventListener('click', () => revoke(t, button));
      cells.push(h('td', null, state === 'revoked' ? '—' : button));
    }
    return h('tr', {'data-token-id': t.id}, cells);
  }

  const pager = new Pager('enrollment', async (cursor) => {
    replace(tbody, rowNotice(columns.length, 'Loading tokens…', 'loading'));
    problem.textContent = '';
    try {
      const page = await api.enrollmentTokens({limit: PAGE_SIZE, cursor,
        include_inactive: includeInactive.checked ? 'true' : undefined}, ctx.signal);
      const items = page.items || [];
      replace(tbody, items.length ? items.map(row)
        : rowNotice(columns.length, includeInactive.checked ? 'No enrollment tokens yet.' : 'No working enrollment tokens.'));
      return page.next_cursor || null;
    } catch (error) {
      if (!isAbort(error)) {
        replace(tbody, rowNotice(columns.length, 'The tokens could not be loaded.', 'error'));
        problem.textContent = describeError(error);
      }
      return null;
    }
  });
  reloadList = () => pager.first();
  includeInactive.addEventListener('change', () => pager.first());

  ctx.root.append(h('section', {class: 'card', 'aria-labelledby': 'tokens-heading'},
    h('h2', {id: 'tokens-heading'}, 'Tokens'),
    h('div', {class: 'field checkbox'}, includeInactive,
      h('label', {for: 'enrollment-include-inactive'}, 'Include revoked, expired and used-up tokens')),
    problem, actionStatus,
    h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Enrollment tokens table'}, table),
    pager.element));
  await pager.first();
}

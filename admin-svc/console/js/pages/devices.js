// Devices: a search and an order the server runs (a fleet of 10,000 is never loaded whole: one
// page of 50 at a time, paged with the API's cursor), their state in the URL so reload and Back
// keep it, and a selection to send a command to.

import {api, isAbort, describeError} from '../api.js';
import {h, replace, select} from '../dom.js';
import {timeEl, text} from '../format.js';
import {rowNotice} from '../notice.js';
import {Pager} from '../pager.js';
import {path, withQuery, sendHash, go} from '../router.js';
import {badge} from '../badges.js';
import {hasScope} from '../session.js';
import {deviceLabel} from '../device-names.js';

export const title = 'Devices';
export const nav = 'devices';

const PAGE_SIZE = 50;

const FIELDS = [
  ['serial', 'Serial number'],
  ['name', 'Name starts with'],
  ['model', 'Model'],
  ['os_version', 'OS version'],
  ['udid', 'UDID / enrollment ID'],
];
const STATUSES = [['', 'Any status'], ['enrolled', 'Enrolled'], ['authenticated', 'Authenticated'],
  ['checked_out', 'Checked out']];
const SEEN = [['', 'Any time'], ['24h', 'Seen in the last 24 h'],
  ['7d', 'Not seen for 7 days (inactive)'], ['30d', 'Not seen for 30 days']];

// The last-seen filter as the API's time bounds.
function seenBounds(seen) {
  const ago = (days) => new Date(Date.now() - days * 24 * 3600 * 1000)
    .toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (seen === '24h') return {last_seen_after: ago(1)};
  if (seen === '7d') return {last_seen_before: ago(7)};
  if (seen === '30d') return {last_seen_before: ago(30)};
  return {};
}


function modelText(d) {
  const parts = [d.model_name, d.product_name].filter(Boolean);
  if (parts.length === 2 && parts[0] !== parts[1]) return `${parts[0]} (${parts[1]})`;
  return parts[0] || d.model || '';
}

function osText(d) {
  return [d.os_version, d.build_version ? `(${d.build_version})` : null].filter(Boolean).join(' ');
}

// Columns: [label, the API's sort for it (null: not sortable)].
const COLUMNS = [
  ['Name', 'name'],
  ['Serial', null],
  ['Model', null],
  ['OS', null],
  ['Status', null],
  ['Last seen', 'last_seen'],
];
const SORTS = new Set(COLUMNS.map(([, sort]) => sort).filter(Boolean));

export async function render(ctx) {
  const q = ctx.query;
  const state = {
    field: FIELDS.some(([v]) => v === q.get('field')) ? q.get('field') : 'serial',
    q: q.get('q') || '',
    status: q.get('status') || '',
    seen: q.get('seen') || '',
    sort: SORTS.has(q.get('sort')) ? q.get('sort') : '',
    descending: q.get('desc') === '1',
  };
  const canSend = hasScope('commands');
  const selected = new Set();
  let rows = [];                      // the devices of the page shown

  // The search form.
  const fieldSelect = select({id: 'device-search-field', name: 'field'}, FIELDS, state.field);
  const searchInput = h('input', {id: 'device-search', name: 'q', type: 'search', value: state.q,
    autocomplete: 'off', spellcheck: 'false'});
  const statusSelect = select({id: 'device-status', name: 'status'}, STATUSES, state.status);
  const seenSelect = select({id: 'device-seen', name: 'seen'}, SEEN, state.seen);
  const form = h('form', {id: 'device-search-form', class: 'card search-form', role: 'search'},
    h('div', {class: 'field'}, h('label', {for: 'device-search-field'}, 'Search by'), fieldSelect),
    h('div', {class: 'field grow'}, h('label', {for: 'device-search'}, 'Search for'), searchInput),
    h('div', {class: 'field'}, h('label', {for: 'device-status'}, 'Status'), statusSelect),
    h('div', {class: 'field'}, h('label', {for: 'device-seen'}, 'Last seen'), seenSelect),
    h('div', {class: 'field buttons'},
      h('button', {id: 'device-search-submit', type: 'submit', class: 'primary'}, 'Search'),
      h('a', {href: '#/devices', class: 'button-link secondary'}, 'Clear')));
  // The URL of this search in another order (null: the current one).
  function searchHash(order = null) {
    const {sort, descending} = order || state;
    return withQuery('#/devices', {
      field: fieldSelect.value === 'serial' && !searchInput.value.trim() ? null : fieldSelect.value,
      q: searchInput.value.trim(),
      status: statusSelect.value,
      seen: seenSelect.value,
      sort: sort || null,
      desc: sort && descending ? '1' : null,
    });
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(searchHash());
  });

  // The table.
  const caption = h('caption');
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', {id: 'devices-table', class: 'data'}, caption, h('thead', null, headRow), tbody);
  const status = h('p', {class: 'visually-hidden', role: 'status', 'aria-live': 'polite'});
  const problem = h('p', {class: 'error', role: 'alert', id: 'devices-error'});

  const sendButton = h('button', {type: 'button', id: 'send-to-selected', class: 'primary', disabled: true,
    onclick: () => go(sendHash([...selected]))}, 'Send a command to the selected devices');
  const selectionText = h('span', {class: 'selection-count', 'aria-live': 'polite'}, 'No device selected.');
  const pageCheckbox = h('input', {type: 'checkbox', id: 'select-page', onchange: () => {
    for (const d of rows) {
      if (pageCheckbox.checked) selected.add(d.enrollment_id);
      else selected.delete(d.enrollment_id);
    }
    for (const box of tbody.querySelectorAll('input.device-select')) box.checked = pageCheckbox.checked;
    selectionChanged();
  }});

  function selectionChanged() {
    sendButton.disabled = selected.size === 0;
    sendButton.textContent = selected.size
      ? `Send a command to the ${selected.size} selected ${selected.size === 1 ? 'device' : 'devices'}`
      : 'Send a command to the selected devices';
    selectionText.textContent = selected.size
      ? `${selected.size} selected (the selection is kept across pages).`
      : 'No device selected.';
    const onPage = rows.filter((d) => selected.has(d.enrollment_id)).length;
    pageCheckbox.checked = rows.length > 0 && onPage === rows.length;
    pageCheckbox.indeterminate = onPage > 0 && onPage < rows.length;
  }

  if (canSend) {
    headRow.append(h('th', {scope: 'col', class: 'select-col'},
      h('label', {for: 'select-page', class: 'visually-hidden'}, 'Select every device on this page'),
      pageCheckbox));
  }
  for (const [label, sort] of COLUMNS) {
    const th = h('th', {scope: 'col'});
    if (!sort) {
      th.append(label);
    } else {
      // The server sorts the whole fleet; a second click on the same heading reverses it.
      const current = state.sort === sort;
      const descending = current && !state.descending;
      if (current) th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending');
      th.append(h('a', {class: 'sort', href: searchHash({sort, descending}),
        'aria-label': `Sort by ${label.toLowerCase()}${descending ? ', descending' : ''}`}, label,
      h('span', {class: 'sort-mark', 'aria-hidden': 'true'},
        current ? (state.descending ? ' ▼' : ' ▲') : '')));
    }
    headRow.append(th);
  }
  const columnCount = COLUMNS.length + (canSend ? 1 : 0);

  function row(d) {
    const id = d.enrollment_id;
    const cells = [];
    if (canSend) {
      const boxId = `select-${rows.indexOf(d)}`;
      const box = h('input', {type: 'checkbox', class: 'device-select', id: boxId, value: id,
        checked: selected.has(id), onchange: () => {
          if (box.checked) selected.add(id);
          else selected.delete(id);
          selectionChanged();
        }});
      cells.push(h('td', {class: 'select-col'},
        h('label', {for: boxId, class: 'visually-hidden'}, `Select ${deviceLabel(d)}`), box));
    }
    cells.push(
      h('td', null, h('a', {class: 'device-link', href: path('devices', id)}, deviceLabel(d)),
        d.user_id ? h('span', {class: 'hint'}, ' (user channel)') : null),
      h('td', {class: 'mono'}, text(d.serial_number)),
      h('td', null, text(modelText(d))),
      h('td', null, text(osText(d))),
      h('td', null, badge(d.status)),
      h('td', null, timeEl(d.last_seen_at, {relativeOnly: true, empty: 'never'})));
    return h('tr', {'data-enrollment-id': id}, cells);
  }

  function drawRows() {
    replace(tbody, rows.length ? rows.map(row) : rowNotice(columnCount, emptyText()));
    if (canSend) selectionChanged();
  }

  function emptyText() {
    const filtered = state.q || state.status || state.seen;
    if (state.field === 'udid' && state.q) return 'No device with this UDID.';
    return filtered ? 'No devices match.' : 'No devices are enrolled yet.';
  }

  function setCaption(page, n, more) {
    const what = state.field === 'udid' && state.q ? 'The device with this UDID or enrollment ID'
      : state.q || state.status || state.seen ? 'Devices matching the search' : 'All devices';
    const order = state.sort
      ? `, by ${state.sort === 'name' ? 'name' : 'last contact'}${state.descending ? ', descending' : ''}`
      : '';
    replace(caption, `${what}${order}: page ${page}, ${n} shown${more ? ', more on the next pages' : ''}. `,
      h('span', {class: 'hint'}, 'Sort by name or last contact with the column headings.'));
  }

  function loadingRows() {
    replace(tbody, rowNotice(columnCount, 'Loading devices…', 'loading'));
  }

  const pager = new Pager('devices', async (cursor) => {
    loadingRows();
    problem.textContent = '';
    try {
      const page = await api.devices({
        limit: PAGE_SIZE, cursor,
        [state.field]: state.q || undefined,
        status: state.status || undefined,
        sort: state.sort || undefined,
        descending: state.sort && state.descending ? true : undefined,
        ...seenBounds(state.seen),
      }, ctx.signal);
      rows = page.items || [];
      drawRows();
      setCaption(pager.page, rows.length, Boolean(page.next_cursor));
      status.textContent = `${rows.length} devices shown.`;
      return page.next_cursor || null;
    } catch (error) {
      if (isAbort(error)) return null;
      rows = [];
      replace(tbody, rowNotice(columnCount, 'The devices could not be loaded.', 'error'));
      problem.textContent = describeError(error);
      return null;
    }
  });

  async function loadOne() {
    loadingRows();
    try {
      rows = [await api.device(state.q, ctx.signal)];
    } catch (error) {
      if (isAbort(error)) return;
      rows = [];
      if (error.status !== 404) problem.textContent = describeError(error);
    }
    drawRows();
    setCaption(1, rows.length, false);
    status.textContent = rows.length ? 'One device found.' : 'No device with this UDID.';
  }

  ctx.root.append(
    h('h1', null, 'Devices'),
    form,
    problem,
    canSend ? h('div', {class: 'toolbar'}, sendButton, selectionText) : null,
    h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Devices table'}, table),
    pager.element,
    status);

  if (state.field === 'udid' && state.q) {
    pager.element.hidden = true;
    await loadOne();
  } else {
    await pager.first();
  }
}

// One declaration: its type, version, payload and sets, and the devices it is served to with
// what each reported (applied: active and valid on the version served now; pending: not
// reported on it yet; failed: reported invalid, with the device's reason). The filter lives in
// the URL.

import {api, isAbort, describeError} from '../api.js';
import {h, replace, select} from '../dom.js';
import {timeEl, text, yesNo} from '../format.js';
import {facts} from '../facts.js';
import {failure, loading, rowNotice} from '../notice.js';
import {Pager} from '../pager.js';
import {path, withQuery, go} from '../router.js';

export const title = 'Declaration';
export const nav = 'declarations';

const PAGE_SIZE = 50;
const STATES = [['', 'Every device'], ['applied', 'Applied'], ['pending', 'Pending'], ['failed', 'Failed']];
const COLUMNS = ['Device', 'Applied', 'Reported version', 'Active', 'Valid', 'Reason', 'Reported'];

/** The first reason a device gave, in its words. */
function reason(reported) {
  const first = reported && reported.reasons && reported.reasons[0];
  if (!first) return '—';
  return first.Description ? `${first.Code}: ${first.Description}` : text(first.Code);
}

function stateRow(s) {
  const reported = s.reported;
  const version = !reported ? '—'
    : reported.server_token === s.server_token ? 'current' : `older (${reported.server_token})`;
  return h('tr', {'data-device': s.device},
    h('td', null, h('a', {href: path('devices', s.device), class: 'mono device-link'}, s.device)),
    h('td', null, yesNo(s.applied)),
    h('td', null, version),
    h('td', null, reported ? yesNo(reported.active) : '—'),
    h('td', null, reported ? text(reported.valid) : '—'),
    h('td', {class: 'detail'}, reason(reported)),
    h('td', null, reported ? timeEl(reported.reported_at) : '—'));
}

export async function render(ctx) {
  const id = ctx.params.id;
  const state = ctx.query.get('state') || '';
  const heading = h('h1', {id: 'declaration-page'}, id);
  const details = h('div', null, loading('Loading the declaration…'));
  const filter = select({id: 'declaration-state', name: 'state'}, STATES, state);
  filter.addEventListener('change', () => go(withQuery(path('declarations', id), {state: filter.value})));
  const tbody = h('tbody');
  const error = h('p', {class: 'error', role: 'alert', id: 'declaration-status-error'});
  const table = h('table', {id: 'declaration-status-table', class: 'data'},
    h('caption', null, 'Devices it is served to, by ID, with what each reported'),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', {scope: 'col'}, c)))),
    tbody);
  const pager = new Pager('declaration-status', async (cursor) => {
    replace(tbody, rowNotice(COLUMNS.length, 'Loading the devices…', 'loading'));
    error.textContent = '';
    try {
      const page = await api.declarationStatus(id, {limit: PAGE_SIZE, cursor, state: state || undefined}, ctx.signal);
      const items = page.items || [];
      replace(tbody, items.length ? items.map(stateRow)
        : rowNotice(COLUMNS.length, state ? 'No device is in this state.' : 'No device is served this declaration.'));
      return page.next_cursor || null;
    } catch (problem) {
      if (!isAbort(problem)) {
        replace(tbody, rowNotice(COLUMNS.length, 'The devices could not be loaded.', 'error'));
        error.textContent = describeError(problem);
      }
      return null;
    }
  });

  ctx.root.append(
    h('p', null, h('a', {href: '#/declarations'}, 'All declarations')),
    heading, details,
    h('h2', null, 'Devices'),
    h('div', {class: 'card search-form'},
      h('div', {class: 'field'}, h('label', {for: 'declaration-state'}, 'Show'), filter)),
    error,
    h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Devices of this declaration'}, table),
    pager.element);
  const loaded = (async () => {
    try {
      const d = await api.declaration(id, ctx.signal);
      replace(details,
        facts('declaration-facts', [
          ['Type', h('span', {class: 'mono'}, d.type)],
          ['Server token', h('span', {class: 'mono'}, text(d.server_token))],
          ['Sets', d.sets && d.sets.length ? d.sets.join(', ') : 'none'],
          ['Changed', timeEl(d.updated_at)],
          ['By', text(d.updated_by)],
        ]),
        h('h2', null, 'Payload'),
        h('pre', {id: 'declaration-payload', class: 'payload', tabindex: '0'}, JSON.stringify(d.payload, null, 2)));
    } catch (problem) {
      if (!isAbort(problem)) replace(details, failure(problem, {id: 'declaration-error'}));
    }
  })();
  await Promise.all([loaded, pager.first()]);
}

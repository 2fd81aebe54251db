// Declarative Device Management at a glance: every declaration (its type, version and the sets
// that hold it) and every set (its declarations and how many devices it is assigned to). Each
// declaration links to the devices it is served to, with what they reported. Read-only: changes
// are made with the API or mdmctl (docs/declarative.md).

import {api, isAbort, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {timeEl, count, text} from '../format.js';
import {rowNotice} from '../notice.js';
import {Pager} from '../pager.js';
import {path} from '../router.js';

export const title = 'Declarations';
export const nav = 'declarations';

const PAGE_SIZE = 50;
const DECLARATION_COLUMNS = ['Identifier', 'Type', 'Sets', 'Server token', 'Changed', 'By'];
const SET_COLUMNS = ['Set', 'Declarations', 'Devices', 'Changed', 'By'];

/** A list of identifiers, or a dash. */
function names(list) {
  return list && list.length ? list.join(', ') : '—';
}

/** A table of one paged list, loaded by `fetch(cursor)` and drawn a row at a time by `row`. */
function pagedTable({id, caption, columns, what, fetch, row, signal}) {
  const tbody = h('tbody');
  const error = h('p', {class: 'error', role: 'alert', id: `${id}-error`});
  const table = h('table', {id, class: 'data'},
    h('caption', null, caption),
    h('thead', null, h('tr', null, columns.map((c) => h('th', {scope: 'col'}, c)))),
    tbody);
  const pager = new Pager(id, async (cursor) => {
    replace(tbody, rowNotice(columns.length, `Loading ${what}…`, 'loading'));
    error.textContent = '';
    try {
      const page = await fetch({limit: PAGE_SIZE, cursor}, signal);
      const items = page.items || [];
      replace(tbody, items.length ? items.map(row) : rowNotice(columns.length, `No ${what} yet.`));
      return page.next_cursor || null;
    } catch (failure) {
      if (!isAbort(failure)) {
        replace(tbody, rowNotice(columns.length, `The ${what} could not be loaded.`, 'error'));
        error.textContent = describeError(failure);
      }
      return null;
    }
  });
  const wrap = h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption}, table);
  return {elements: [error, wrap, pager.element], pager};
}

export async function render(ctx) {
  const declarations = pagedTable({
    id: 'declarations-table', caption: 'Declarations, by identifier', columns: DECLARATION_COLUMNS,
    what: 'declarations', fetch: api.declarations, signal: ctx.signal,
    row: (d) => h('tr', {'data-identifier': d.identifier},
      h('td', null, h('a', {href: path('declarations', d.identifier), class: 'mono declaration-link'}, d.identifier)),
      h('td', {class: 'mono'}, d.type),
      h('td', null, names(d.sets)),
      h('td', {class: 'mono'}, text(d.server_token)),
      h('td', null, timeEl(d.updated_at)),
      h('td', null, text(d.updated_by))),
  });
  const sets = pagedTable({
    id: 'declaration-sets-table', caption: 'Declaration sets, by name', columns: SET_COLUMNS,
    what: 'declaration sets', fetch: api.declarationSets, signal: ctx.signal,
    row: (s) => h('tr', {'data-set': s.name},
      h('td', null, s.name),
      h('td', null, names(s.declarations)),
      h('td', null, count(s.devices)),
      h('td', null, timeEl(s.updated_at)),
      h('td', null, text(s.updated_by))),
  });
  ctx.root.append(
    h('h1', {id: 'declarations-page'}, 'Declarations'),
    h('p', {class: 'hint'}, 'Declarative Device Management: devices hold these declarations and report their state by themselves. ',
      'Make and assign them with the API or mdmctl (mdmctl declarations, mdmctl declaration-sets).'),
    h('h2', null, 'Declarations'), ...declarations.elements,
    h('h2', null, 'Sets'), ...sets.elements);
  await Promise.all([declarations.pager.first(), sets.pager.first()]);
}

// Table rows for deliveries (one command on one device), shared by the device's history and a
// command's fan-out. Refreshing keeps the rows that did not change, so a result someone opened
// stays open while the rows around it are still being answered.

import {h, replace} from './dom.js';
import {timeEl, count} from './format.js';
import {badge} from './badges.js';
import {path} from './router.js';
import {resultDetails} from './result-tree.js';
import {rowNotice} from './notice.js';

/** What makes a row look different; equal signatures keep the existing <tr>. */
function signature(d) {
  return [d.status, d.not_now_count, d.sent_at, d.completed_at, d.result ? JSON.stringify(d.result).length : 0]
    .join('|');
}

function notNowCell(d) {
  if (!d.not_now_count) return h('td', {class: 'num'}, '0');
  return h('td', {class: 'num'}, count(d.not_now_count),
    d.status === 'queued' ? h('span', {class: 'hint'}, ' (device busy, will retry)') : null);
}

/**
 * `columns`: 'device' (the device's history shows the command instead) decides the first cell.
 * Returns <tr data-command-uuid data-enrollment-id>.
 */
export function deliveryRow(d, {firstColumn}) {
  const first = firstColumn === 'device'
    ? h('td', null, h('a', {href: path('devices', d.enrollment_id), class: 'device-link mono'}, d.enrollment_id))
    : h('td', null, h('a', {href: path('commands', d.command_uuid), class: 'command-link'}, d.request_type));
  return h('tr', {'data-command-uuid': d.command_uuid, 'data-enrollment-id': d.enrollment_id},
    first,
    h('td', {class: 'status'}, badge(d.status)),
    notNowCell(d),
    h('td', null, timeEl(d.queued_at, {relativeOnly: true})),
    h('td', null, timeEl(d.sent_at, {relativeOnly: true, empty: 'not yet'})),
    h('td', null, timeEl(d.completed_at, {relativeOnly: true, empty: d.status === 'queued' ? 'waiting' : '—'})),
    h('td', {class: 'result-cell'}, resultDetails(d.result)));
}

/** The header cells matching deliveryRow. */
export function deliveryHeaders(firstColumn) {
  const labels = [firstColumn === 'device' ? 'Device' : 'Request type', 'Status', 'NotNow answers',
    'Queued', 'Sent', 'Completed', 'Result'];
  return h('tr', null, labels.map((label) => h('th', {scope: 'col'}, label)));
}

/** A tbody whose rows are keyed, so a refresh replaces only what changed. */
export class DeliveryBody {
  constructor(firstColumn, emptyText) {
    this.firstColumn = firstColumn;
    this.emptyText = emptyText;
    this.element = h('tbody');
    this.rows = new Map(); // key → {sig, tr}
  }

  key(d) {
    return `${d.command_uuid}\u0000${d.enrollment_id}`;
  }

  show(items) {
    if (items.length === 0) {
      this.rows.clear();
      replace(this.element, rowNotice(7, this.emptyText));
      return;
    }
    const next = new Map();
    const trs = items.map((d) => {
      const key = this.key(d);
      const sig = signature(d);
      const old = this.rows.get(key);
      const tr = old && old.sig === sig ? old.tr : deliveryRow(d, {firstColumn: this.firstColumn});
      next.set(key, {sig, tr});
      return tr;
    });
    this.rows = next;
    // replaceChildren moves kept rows rather than rebuilding them, so open <details> stay open.
    this.element.replaceChildren(...trs);
  }

  notice(text, kind = 'loading') {
    this.rows.clear();
    replace(this.element, rowNotice(7, text, kind));
  }
}

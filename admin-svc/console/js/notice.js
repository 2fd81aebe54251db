// The states every list and page passes through: loading, empty, failed. One look for each, and
// failures always in the server's words (see api.js describeError).

import {h} from './dom.js';
import {describeError} from './api.js';

/** "Loading devices…", announced politely. */
export function loading(what = 'Loading…') {
  return h('p', {class: 'loading', role: 'status'}, what);
}

/** "No devices match." */
export function empty(what) {
  return h('p', {class: 'empty'}, what);
}

/** An alert with the server's explanation of a failure. */
export function failure(error, {id} = {}) {
  return h('p', {class: 'error', role: 'alert', id}, describeError(error));
}

/** A table cell spanning the row, for "loading" and "nothing here" inside a table body. */
export function rowNotice(columns, message, kind = 'empty') {
  return h('tr', {class: 'notice-row'},
    h('td', {colspan: String(columns), class: kind}, message));
}

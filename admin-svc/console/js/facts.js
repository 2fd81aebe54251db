// Definition lists of facts ("Serial number: F2LX…"), the shape of every detail section.

import {h} from './dom.js';

/**
 * facts('device-facts', [['Name', 'Ana's iPhone'], ['Last seen', timeEl(...)], null, ...])
 * Null entries are skipped so callers can leave out facts that do not apply.
 */
export function facts(id, entries, {className = 'facts'} = {}) {
  const dl = h('dl', {id, class: className});
  for (const entry of entries) {
    if (!entry) continue;
    const [term, value] = entry;
    dl.append(h('div', {class: 'fact'}, h('dt', null, term), h('dd', null, value)));
  }
  return dl;
}

// A device's answer (a plist the API hands over as JSON) made readable: nested lists with the
// dictionary keys in bold and arrays numbered, bytes shown as a size rather than a wall of
// base64, and an ErrorChain spelled out in plain words before anything else.

import {h} from './dom.js';
import {count} from './format.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Keys whose values are <data> in Apple's replies (certificates, signatures, payloads...).
const DATA_KEY = /(^|[a-z])(Data|Certificate|Certificates|Signature|Hash|Payload|Blob)$/;
// Past this much JSON, the tree is built when first opened rather than with the table.
const LAZY_CHARS = 20000;

/** Bytes of a base64 string (the API sends plist <data> that way). */
function decodedLength(b64) {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor(b64.length * 3 / 4) - padding;
}

/**
 * JSON has no bytes, so plist <data> arrives as base64 text, indistinguishable from a string in
 * general. A value counts as data when its key says so (Data, ...Certificate) or when it is a
 * long run of the base64 alphabet that no name or identifier would be.
 */
function looksLikeData(key, value) {
  const compact = value.replace(/\s+/g, '');
  if (compact.length < 4 || compact.length % 4 !== 0 || !BASE64.test(compact)) return false;
  if (key && DATA_KEY.test(key)) return true;
  return compact.length >= 64 && /[a-z]/.test(compact) && /[A-Z]/.test(compact) && /[0-9+/]/.test(compact);
}

function scalar(key, value) {
  if (value === null || value === undefined) return h('span', {class: 'tree-null'}, 'null');
  if (typeof value === 'boolean') return h('span', {class: 'tree-bool'}, value ? 'true' : 'false');
  if (typeof value === 'number') return h('span', {class: 'tree-num'}, String(value));
  const text = String(value);
  if (looksLikeData(key, text)) {
    const n = decodedLength(text.replace(/\s+/g, ''));
    return h('span', {class: 'tree-data', title: 'Binary data (base64 in the API)'},
      `${count(n)} ${n === 1 ? 'byte' : 'bytes'}`);
  }
  return h('span', {class: 'tree-str'}, text);
}

/** One value: a scalar inline, or a nested list. `key` hints whether a string is bytes. */
function valueNode(value, key) {
  if (Array.isArray(value)) {
    if (value.length === 0) return h('span', {class: 'tree-empty'}, '(empty list)');
    return h('ol', {class: 'tree-list'}, value.map((item) => h('li', null, valueNode(item, key))));
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return h('span', {class: 'tree-empty'}, '(empty)');
    return h('ul', {class: 'tree-dict'}, keys.map((k) => {
      const child = value[k];
      const nested = child !== null && typeof child === 'object';
      return h('li', {class: nested ? 'tree-branch' : null},
        h('strong', {class: 'tree-key'}, k), nested ? '' : ': ', valueNode(child, k));
    }));
  }
  return scalar(key, value);
}

/** <div class="result-tree"> of any JSON value. */
export function resultTree(value) {
  const tree = h('div', {class: 'result-tree'});
  fillTree(tree, value);
  return tree;
}

function fillTree(tree, value) {
  if (value && typeof value === 'object' && !Array.isArray(value)
      && Object.keys(value).length === 1 && typeof value.$raw === 'string') {
    // The server could not convert the stored plist: show it as it is.
    tree.append(h('p', null, 'The device\'s answer could not be read as a property list; as received:'),
      h('pre', {class: 'tree-raw'}, value.$raw));
    return;
  }
  tree.append(valueNode(value, null));
}

function describe(entry) {
  const localized = entry.LocalizedDescription;
  const english = entry.USEnglishDescription;
  let text = localized || english || 'no description given';
  if (localized && english && localized !== english) text = `${localized} (in US English: ${english})`;
  const where = [entry.ErrorDomain, entry.ErrorCode].filter((x) => x !== undefined && x !== null && x !== '');
  return where.length ? `${text} (${where.join(' ')})` : text;
}

/**
 * ul.error-chain: the first entry is what the device said, the rest why, in its order.
 * Null when the result has no ErrorChain.
 */
export function errorChain(result) {
  const chain = result && Array.isArray(result.ErrorChain) ? result.ErrorChain : null;
  if (!chain || chain.length === 0) return null;
  const formatError = result.Status === 'CommandFormatError';
  const lead = formatError ? 'The device could not read the command' : 'The device refused the command';
  return h('ul', {class: 'error-chain'}, chain.map((entry, i) => {
    const e = entry && typeof entry === 'object' ? entry : {};
    return h('li', null, i === 0 ? `${lead}: ` : 'Because: ', describe(e));
  }));
}

/** The first line of an ErrorChain, for one-line summaries (dashboard). */
export function errorSummary(result) {
  const chain = result && Array.isArray(result.ErrorChain) ? result.ErrorChain : null;
  if (!chain || chain.length === 0 || !chain[0] || typeof chain[0] !== 'object') return null;
  return describe(chain[0]);
}

/**
 * The result cell: <details class="result"> with the ErrorChain (if any, and then open so the
 * reason is visible at once) above <div class="result-tree">. A dash when there is no result.
 */
export function resultDetails(result) {
  if (result === null || result === undefined) return h('span', {class: 'none'}, '—');
  const chain = errorChain(result);
  const fields = result && typeof result === 'object' ? Object.keys(result).length : 0;
  const label = chain ? 'Result: refused' : `Result (${fields} ${fields === 1 ? 'field' : 'fields'})`;
  const tree = h('div', {class: 'result-tree'});
  const details = h('details', {class: 'result', open: Boolean(chain)},
    h('summary', null, label), chain, tree);

  let size = 0;
  try {
    size = JSON.stringify(result).length;
  } catch {
    size = Infinity;
  }
  if (size <= LAZY_CHARS || chain) {
    fillTree(tree, result);
  } else {
    // Big answers (hundreds of apps) are built only if someone opens them.
    tree.append(h('p', {class: 'loading'}, 'Open to show the result.'));
    details.addEventListener('toggle', () => {
      if (!details.open || tree.dataset.filled) return;
      tree.dataset.filled = 'yes';
      tree.replaceChildren();
      fillTree(tree, result);
    });
  }
  return details;
}

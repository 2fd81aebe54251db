// The one way the console builds DOM. Device names, results and reasons come from devices and
// other administrators, so text only ever goes in through text nodes: nothing here parses HTML,
// and the page's Content-Security-Policy forbids inline styles and handlers anyway.

// Attributes that are DOM properties rather than markup (so `false` really means off).
const BOOLEAN_PROPS = new Set([
  'hidden', 'disabled', 'checked', 'required', 'selected', 'open', 'multiple', 'readOnly',
]);

/**
 * h('a', {href: '#/x', class: 'link', 'data-id': id, onclick: fn}, 'text', child, [more])
 * - `class` / `className`: the class list (a string, or an array with falsy entries skipped);
 * - `on<event>`: a listener;
 * - `for`: the label's target; `dataset`: an object of data-* values;
 * - null, undefined and false attributes or children are left out; arrays of children flatten.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false && !BOOLEAN_PROPS.has(key)) {
      continue;
    }
    if (key === 'class' || key === 'className') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'dataset') {
      for (const [name, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[name] = String(v);
      }
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (BOOLEAN_PROPS.has(key)) {
      el[key] = Boolean(value);
    } else if (key === 'for') {
      el.htmlFor = value;
    } else if (key === 'value') {
      // A property, so it also works on <select> after its options are added; an input's
      // default too, so form.reset() goes back to it.
      if (el.tagName === 'INPUT') el.defaultValue = value;
      el.value = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

/** Appends children: nodes as they are, anything else as text. */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
  return el;
}

/** Replaces everything inside `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A <select>'s value is set after its options exist; this keeps callers from forgetting. */
export function select(attrs, options, value) {
  const el = h('select', attrs,
    options.map(([v, label]) => h('option', {value: v}, label)));
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

/** Unique element IDs for label/aria wiring inside generated forms. */
let nextId = 0;
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

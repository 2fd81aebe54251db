// Form fields generated from a JSON schema (a typed command's fields in the OpenAPI document):
// strings, numbers, booleans, enums as selects, lists of strings one per line, bytes from a
// file. Each field has a real <label>; required ones say so in words. Anything the builder does
// not know is edited as JSON, so no command is out of reach.

import {h, uid} from './dom.js';

/** A value the person must fix before anything is sent; `input` is where. */
export class FieldError extends Error {
  constructor(message, input) {
    super(message);
    this.input = input;
  }
}

// Words people expect in capitals.
const ACRONYMS = new Set(['pin', 'udid', 'url', 'id', 'os', 'mdm', 'vpn', 'wifi', 'imei', 'meid', 'esim']);

/** "phone_number" → "Phone number", "pin" → "PIN". */
export function humanize(name) {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase()
    .split(' ').map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w)).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function typeOf(schema) {
  if (Array.isArray(schema.enum)) return 'enum';
  if (schema.type === 'string' && (schema.contentEncoding === 'base64' || schema.format === 'byte'
      || schema.format === 'binary' || /\bbase64\b/i.test(schema.description || ''))) return 'bytes';
  if (schema.type === 'array' && schema.items && schema.items.type === 'string'
      && !Array.isArray(schema.items.enum)) return 'lines';
  if (['string', 'integer', 'number', 'boolean'].includes(schema.type)) return schema.type;
  return 'json';
}

/** Whether a value fits a schema pattern; a pattern this browser cannot compile is the server's to check. */
function matches(pattern, value) {
  if (!pattern) return true;
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true;
  }
}

/** File contents as base64, without a data: URL prefix. */
function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function labelFor(id, name, schema, required, suffix = '') {
  return h('label', {for: id}, schema.title || humanize(name), suffix,
    required ? h('span', {class: 'required'}, ' (required)') : null);
}

/** Schema descriptions are Markdown-ish: drop the code backticks for reading. */
export function plainText(text) {
  return String(text || '').replace(/`/g, '');
}

function hint(schema, id) {
  return schema.description ? h('p', {class: 'hint', id}, plainText(schema.description)) : null;
}

/** One field: {element, read() → value or undefined for "leave it out", input}. */
function field(name, schema, required) {
  const id = uid(`field-${name}`);
  const hintId = schema.description ? `${id}-hint` : null;
  const common = {id, name, 'aria-describedby': hintId, required};
  const kind = typeOf(schema);

  if (kind === 'boolean') {
    const input = h('input', {...common, type: 'checkbox', required: false,
      checked: schema.default === true});
    return {
      input,
      element: h('div', {class: 'field checkbox'}, input, labelFor(id, name, schema, false), hint(schema, hintId)),
      // Unchecked leaves an optional flag out, so the device's own default applies.
      read: () => (input.checked ? true : required ? false : undefined),
    };
  }

  if (kind === 'enum') {
    const options = [required ? null : ['', '(not set)'], ...schema.enum.map((v) => [String(v), String(v)])]
      .filter(Boolean);
    const input = h('select', common, options.map(([v, l]) => h('option', {value: v}, l)));
    if (schema.default !== undefined) input.value = String(schema.default);
    return {
      input,
      element: h('div', {class: 'field'}, labelFor(id, name, schema, required), input, hint(schema, hintId)),
      read: () => {
        if (input.value === '') return undefined;
        const chosen = schema.enum.find((v) => String(v) === input.value);
        return chosen === undefined ? input.value : chosen;
      },
    };
  }

  if (kind === 'integer' || kind === 'number') {
    const input = h('input', {...common, type: 'number', inputmode: kind === 'integer' ? 'numeric' : 'decimal',
      step: kind === 'integer' ? '1' : 'any', min: schema.minimum, max: schema.maximum});
    return {
      input,
      element: h('div', {class: 'field'}, labelFor(id, name, schema, required), input, hint(schema, hintId)),
      read: () => {
        if (input.value.trim() === '') {
          if (required) throw new FieldError(`${humanize(name)} is required.`, input);
          return undefined;
        }
        const value = Number(input.value);
        if (!Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
          throw new FieldError(`${humanize(name)} must be ${kind === 'integer' ? 'a whole number' : 'a number'}.`, input);
        }
        return value;
      },
    };
  }

  if (kind === 'lines') {
    const input = h('textarea', {...common, rows: '4', spellcheck: 'false'});
    return {
      input,
      element: h('div', {class: 'field'}, labelFor(id, name, schema, required, ' (one per line)'), input, hint(schema, hintId)),
      read: () => {
        const lines = input.value.split('\n').map((l) => l.trim()).filter(Boolean);
        if (lines.length === 0) {
          if (required) throw new FieldError(`${humanize(name)} needs at least one line.`, input);
          return undefined;
        }
        return lines;
      },
    };
  }

  if (kind === 'bytes') {
    // The file is read into the textarea as base64, so a pasted value works the same way.
    const input = h('textarea', {...common, rows: '3', spellcheck: 'false', class: 'mono'});
    const fileId = `${id}-file`;
    const status = h('span', {class: 'hint', 'aria-live': 'polite'});
    const file = h('input', {id: fileId, type: 'file', onchange: async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      input.value = await fileToBase64(chosen);
      status.textContent = `${chosen.name} read (${chosen.size} bytes).`;
    }});
    return {
      input,
      element: h('div', {class: 'field'},
        labelFor(id, name, schema, required, ' (base64)'), input,
        h('div', {class: 'file-row'}, h('label', {for: fileId}, 'Or read it from a file'), file, status),
        hint(schema, hintId)),
      read: () => {
        const value = input.value.replace(/\s+/g, '');
        if (!value) {
          if (required) throw new FieldError(`${humanize(name)} is required: choose a file.`, input);
          return undefined;
        }
        if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
          throw new FieldError(`${humanize(name)} is not base64.`, input);
        }
        return value;
      },
    };
  }

  if (kind === 'string') {
    const long = schema.maxLength === undefined || schema.maxLength > 200;
    const input = h(long && /message|description|text/i.test(name) ? 'textarea' : 'input', {
      ...common, type: long && /message|description|text/i.test(name) ? undefined : 'text',
      pattern: schema.pattern, maxlength: schema.maxLength, autocomplete: 'off',
      inputmode: schema.pattern === '^[0-9]{6}$' ? 'numeric' : undefined,
    });
    if (schema.default !== undefined) input.value = String(schema.default);
    return {
      input,
      element: h('div', {class: 'field'}, labelFor(id, name, schema, required), input, hint(schema, hintId)),
      read: () => {
        if (input.value === '') {
          if (required) throw new FieldError(`${humanize(name)} is required.`, input);
          return undefined;
        }
        if (!matches(schema.pattern, input.value)) {
          throw new FieldError(`${humanize(name)} does not have the expected form. ${plainText(schema.description)}`.trim(), input);
        }
        return input.value;
      },
    };
  }

  // Objects, mixed lists and the like: JSON, checked before sending.
  const input = h('textarea', {...common, rows: '4', spellcheck: 'false', class: 'mono'});
  return {
    input,
    element: h('div', {class: 'field'}, labelFor(id, name, schema, required, ' (JSON)'), input, hint(schema, hintId)),
    read: () => {
      if (input.value.trim() === '') {
        if (required) throw new FieldError(`${humanize(name)} is required.`, input);
        return undefined;
      }
      try {
        return JSON.parse(input.value);
      } catch (error) {
        throw new FieldError(`${humanize(name)} is not valid JSON: ${error.message}`, input);
      }
    },
  };
}

/**
 * The fields of an object schema: {element, read() → object of the filled fields}.
 * read() throws FieldError naming the field to fix.
 */
export function schemaFields(schema) {
  const required = new Set(schema.required || []);
  const entries = Object.entries(schema.properties || {})
    .map(([name, prop]) => [name, field(name, prop || {}, required.has(name))]);
  const element = h('div', {class: 'schema-fields'},
    entries.length ? entries.map(([, f]) => f.element)
      : h('p', {class: 'hint'}, 'This command has no options.'));
  return {
    element,
    read() {
      const value = {};
      for (const [name, f] of entries) {
        const v = f.read();
        if (v !== undefined) value[name] = v;
      }
      return value;
    },
  };
}

// Sending a command. The form is generated from the server's description of each typed command;
// a raw form takes Apple's own keys for everything else. Nothing is sent before a confirmation
// that names the command and every target, and a destructive one says plainly what it will do.
// A refusal stays on this page, in the server's words, with everything typed still there.

import {api, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {loading} from '../notice.js';
import {path, devicesFromQuery, go} from '../router.js';
import {hasScope, session} from '../session.js';
import {loadCatalog, isDestructive, scopesFor, commandFor} from '../command-catalog.js';
import {schemaFields, FieldError, plainText} from '../schema-form.js';
import {confirmAction} from '../confirm-dialog.js';
import {setFlash} from '../flash.js';
import {deviceLabel} from '../device-names.js';

export const title = 'Send a command';
export const nav = 'devices';

const RAW = '__raw';
const NAME_LOOKUP_LIMIT = 10;

// What a destructive command does, in words, for the confirmation.
const CONSEQUENCES = {
  EraseDevice: 'Every device listed will be erased: all its apps, settings and data are lost for good, and it leaves management.',
  DeviceLock: 'Every device listed will be locked at once; its user needs the passcode (or, on a Mac, the PIN) to get back in.',
  ClearPasscode: 'The passcode of this device will be removed, and with it Data Protection, until its user sets a new one.',
  ClearRestrictionsPassword: 'The restrictions passcode will be removed from every device listed.',
  DeleteUser: 'The user and all of their data will be deleted from every device listed.',
  EnableLostMode: 'Every device listed will enter Lost Mode and be unusable until Lost Mode is turned off.',
  SetFirmwarePassword: 'The firmware password will change: a wrong one locks everyone out of startup options.',
  SetRecoveryLock: 'The recovery lock password will change: only the new password can change it again.',
};

const EXPIRY = [['', 'Never'], ['3600', 'After 1 hour'], ['86400', 'After 1 day'],
  ['604800', 'After 7 days'], ['2592000', 'After 30 days']];

function newIdempotencyKey() {
  if (crypto.randomUUID) return `console-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The request type a raw command names (JSON keys or the plist's RequestType). */
function rawRequestType(command) {
  if (typeof command.RequestType === 'string') return command.RequestType;
  if (typeof command.request_type === 'string') return command.request_type;
  if (typeof command.plist === 'string') {
    const m = command.plist.match(/<key>\s*RequestType\s*<\/key>\s*<string>([^<]*)<\/string>/);
    return m ? m[1].trim() : null;
  }
  return null;
}

/** "(needs the destructive scope)" for what this session lacks; '' when it has it all. */
function missingScopesNote(requestType) {
  const missing = scopesFor(requestType).filter((scope) => !hasScope(scope));
  if (missing.length === 0) return isDestructive(requestType) ? ' (destructive)' : '';
  return ` (needs the ${missing.join(' and ')} scope${missing.length > 1 ? 's' : ''})`;
}

export async function render(ctx) {
  ctx.root.append(h('h1', null, 'Send a command'));
  if (!hasScope('commands')) {
    const s = session();
    ctx.root.append(h('p', {class: 'notice'},
      'Sending commands needs the commands scope; this session has ',
      (s.scopes || []).join(', ') || 'none', '.'));
    return;
  }

  const targets = [...new Set(devicesFromQuery(ctx.rawQuery))];
  const holder = h('div', null, loading('Loading the commands…'));
  ctx.root.append(holder);
  const catalog = await loadCatalog();
  if (ctx.signal.aborted) return;

  // Targets: as chosen on the Devices page, or typed here.
  const names = new Map();
  const targetList = h('ul', {id: 'command-targets', class: 'targets'});
  const drawTargets = () => replace(targetList, targets.map((id) => h('li', null,
    h('a', {href: path('devices', id), class: 'mono'}, id),
    names.has(id) ? ` — ${names.get(id)}` : '')));
  const typedTargets = h('textarea', {id: 'command-devices', rows: '4', spellcheck: 'false', class: 'mono',
    'aria-describedby': 'command-devices-hint'});
  const targetSection = h('section', {class: 'card', 'aria-labelledby': 'targets-heading'},
    h('h2', {id: 'targets-heading'}, targets.length
      ? `Target devices (${targets.length})`
      : 'Target devices'),
    targets.length
      ? [targetList, h('p', {class: 'hint'}, h('a', {href: '#/devices'}, 'Choose other devices'))]
      : h('div', {class: 'field'},
        h('label', {for: 'command-devices'}, 'Enrollment IDs (UDIDs), one per line ', h('span', {class: 'required'}, '(required)')),
        typedTargets,
        h('p', {class: 'hint', id: 'command-devices-hint'},
          'Or select devices on the ', h('a', {href: '#/devices'}, 'Devices page'), ' and choose “Send a command”.')));
  drawTargets();
  if (targets.length && targets.length <= NAME_LOOKUP_LIMIT) {
    // Names make the list and the confirmation readable; a few lookups, never a fleet's worth.
    Promise.all(targets.map((id) => api.device(id, ctx.signal)
      .then((d) => names.set(id, deviceLabel(d)), () => {}))).then(() => {
      if (!ctx.signal.aborted) drawTargets();
    });
  }

  // The command type and its fields.
  const typeSelect = h('select', {id: 'command-type', name: 'command-type', 'aria-describedby': 'command-type-hint'},
    h('optgroup', {label: 'Typed commands'}, catalog.types.map((t) =>
      h('option', {value: t.requestType}, `${t.requestType}${missingScopesNote(t.requestType)}`))),
    h('optgroup', {label: 'Every other command of Apple\'s schema'}, catalog.others.map((t) =>
      h('option', {value: t.requestType}, `${t.requestType}${missingScopesNote(t.requestType)}`))),
    h('optgroup', {label: 'Written by hand'}, h('option', {value: RAW}, 'Raw (Apple keys, JSON)')));
  const entries = [...catalog.types, ...catalog.others];
  const wanted = ctx.query.get('type');
  if (wanted && entries.some((t) => t.requestType === wanted)) typeSelect.value = wanted;

  const typeHint = h('p', {class: 'hint', id: 'command-type-hint'});
  const warning = h('p', {class: 'warning', id: 'command-warning', hidden: true});
  const fieldsHolder = h('div', {id: 'command-fields'});
  const rawInput = h('textarea', {id: 'command-raw', rows: '8', spellcheck: 'false', class: 'mono',
    'aria-describedby': 'command-raw-hint'});
  const rawField = h('div', {class: 'field'},
    h('label', {for: 'command-raw'}, 'Command dictionary ', h('span', {class: 'required'}, '(required)')),
    rawInput,
    h('p', {class: 'hint', id: 'command-raw-hint'},
      'JSON with Apple\'s key names, e.g. {"RequestType": "DeviceConfigured"}. ',
      'Bytes as {"$data": "<base64>"}, dates as {"$date": "<RFC 3339>"}. ',
      'An XML plist of the Command dictionary works too.'));
  let fields = null;

  const reasonLabelText = h('span');
  const reason = h('textarea', {id: 'command-reason', name: 'reason', rows: '2', maxlength: '1024'});
  const priority = h('input', {id: 'command-priority', name: 'priority', type: 'number', min: '-1000', max: '1000',
    step: '1', inputmode: 'numeric', 'aria-describedby': 'command-priority-hint'});
  const pushBox = h('input', {id: 'command-push', name: 'push', type: 'checkbox', checked: true});
  const unknownBox = h('input', {id: 'command-allow-unknown', name: 'allow_unknown', type: 'checkbox'});
  const unsupportedBox = h('input', {id: 'command-allow-unsupported', name: 'allow_unsupported', type: 'checkbox'});
  const expiry = h('select', {id: 'command-expiry', name: 'expiry'},
    EXPIRY.map(([v, l]) => h('option', {value: v}, l)));
  const formError = h('p', {id: 'form-error', class: 'error', role: 'alert'});
  const submit = h('button', {id: 'command-submit', type: 'submit', class: 'primary'}, 'Review and send…');

  function currentType() {
    if (typeSelect.value !== RAW) return typeSelect.value;
    try {
      const text = rawInput.value.trim();
      return text.startsWith('<') ? rawRequestType({plist: text}) : rawRequestType(JSON.parse(text));
    } catch {
      return null;
    }
  }

  // The reason label and warning follow the chosen type: required, and why, when destructive.
  function updateDestructive() {
    const type = currentType();
    const destructive = Boolean(type && isDestructive(type));
    reason.required = destructive;
    replace(reasonLabelText, destructive
      ? ['Reason ', h('span', {class: 'required'}, `(required: ${type} is destructive; kept with the command and in the audit log)`)]
      : 'Reason (required for destructive commands; kept with the command)');
    warning.hidden = !destructive;
    if (destructive) {
      const missing = scopesFor(type).filter((scope) => !hasScope(scope));
      replace(warning, h('strong', null, `${type} is destructive. `), CONSEQUENCES[type] || 'It cannot be undone.',
        missing.length ? ` This session lacks the ${missing.join(' and ')} scope${missing.length > 1 ? 's' : ''}: the server will refuse it.` : '');
    }
  }

  function typeChanged() {
    const type = typeSelect.value;
    if (type === RAW) {
      fields = null;
      typeHint.textContent = 'Any request type of Apple\'s schema, with Apple\'s keys. The server checks its keys and types against the schema before it is queued.';
      replace(fieldsHolder, rawField);
    } else {
      const entry = entries.find((t) => t.requestType === type);
      typeHint.textContent = plainText(entry.description);
      fields = schemaFields(entry.schema);
      replace(fieldsHolder, fields.element);
    }
    updateDestructive();
  }
  typeSelect.addEventListener('change', typeChanged);
  rawInput.addEventListener('input', updateDestructive);

  const form = h('form', {id: 'command-form', class: 'card', novalidate: true},
    h('h2', null, 'Command'),
    h('div', {class: 'field'}, h('label', {for: 'command-type'}, 'Request type'), typeSelect, typeHint),
    warning,
    fieldsHolder,
    h('fieldset', null, h('legend', null, 'Delivery'),
      h('div', {class: 'field checkbox'}, pushBox,
        h('label', {for: 'command-push'}, 'Wake the devices now (push); otherwise they get it at their next check-in')),
      h('div', {class: 'field checkbox'}, unknownBox,
        h('label', {for: 'command-allow-unknown'}, 'Also queue for devices not enrolled yet (they get it when they enroll)')),
      h('div', {class: 'field checkbox'}, unsupportedBox,
        h('label', {for: 'command-allow-unsupported'}, 'Also queue for devices that cannot run it by Apple\'s schema (platform, OS version, supervision)')),
      h('div', {class: 'row'},
        h('div', {class: 'field'}, h('label', {for: 'command-priority'}, 'Priority (optional)'), priority,
          h('p', {class: 'hint', id: 'command-priority-hint'}, '-1000 to 1000; higher is served first.')),
        h('div', {class: 'field'}, h('label', {for: 'command-expiry'}, 'Stop serving it'), expiry))),
    h('div', {class: 'field'}, h('label', {for: 'command-reason'}, reasonLabelText), reason),
    formError,
    h('div', {class: 'buttons'}, submit));

  const idempotencyKey = newIdempotencyKey();

  function fail(message, input) {
    formError.textContent = message;
    if (input && typeof input.focus === 'function') input.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';

    const devices = targets.length ? targets
      : [...new Set(typedTargets.value.split('\n').map((l) => l.trim()).filter(Boolean))];
    if (devices.length === 0) return fail('Name at least one device.', typedTargets);

    let command;
    let type;
    if (typeSelect.value === RAW) {
      const text = rawInput.value.trim();
      if (!text) return fail('Enter the command dictionary.', rawInput);
      if (text.startsWith('<')) {
        command = {plist: text};
      } else {
        try {
          command = JSON.parse(text);
        } catch (error) {
          return fail(`The command is not valid JSON: ${error.message}`, rawInput);
        }
        if (!command || typeof command !== 'object' || Array.isArray(command)) {
          return fail('The command must be a JSON object, e.g. {"RequestType": "ProfileList"}.', rawInput);
        }
      }
      type = rawRequestType(command);
      if (!type) return fail('The command needs a RequestType.', rawInput);
    } else {
      type = typeSelect.value;
      try {
        command = commandFor(entries.find((t) => t.requestType === type), fields.read());
      } catch (error) {
        if (error instanceof FieldError) return fail(error.message, error.input);
        throw error;
      }
    }

    const destructive = isDestructive(type);
    const why = reason.value.trim();
    if (destructive && !why) return fail(`${type} is destructive: give a reason (it is kept with the command).`, reason);
    if (type === 'ClearPasscode' && devices.length !== 1) {
      return fail('ClearPasscode goes to exactly one device at a time.', typeSelect);
    }
    if (priority.value.trim() !== '' && !Number.isInteger(Number(priority.value))) {
      return fail('Priority must be a whole number from -1000 to 1000.', priority);
    }

    const body = {devices, command, push: pushBox.checked, idempotency_key: idempotencyKey};
    if (why) body.reason = why;
    if (priority.value.trim() !== '') body.priority = Number(priority.value);
    if (unknownBox.checked) body.allow_unknown = true;
    if (unsupportedBox.checked) body.allow_unsupported = true;
    if (expiry.value) body.expiry = {ttl_seconds: Number(expiry.value)};

    const confirmed = await confirmAction({
      title: `Send ${type} to ${devices.length} ${devices.length === 1 ? 'device' : 'devices'}?`,
      danger: destructive,
      ok: destructive ? `Send ${type}` : 'Send',
      body: [
        destructive ? h('p', {class: 'warning'}, h('strong', null, 'This cannot be undone. '),
          CONSEQUENCES[type] || `${type} changes the devices in a way the server cannot reverse.`) : null,
        h('p', null, 'Target devices:'),
        h('ul', {id: 'confirm-devices', class: 'targets'}, devices.map((id) =>
          h('li', null, h('span', {class: 'mono'}, id), names.has(id) ? ` — ${names.get(id)}` : ''))),
        why ? h('p', null, h('strong', null, 'Reason: '), why) : null,
        pushBox.checked ? null : h('p', {class: 'hint'}, 'No push: the devices get it at their next check-in.'),
      ],
    });
    if (!confirmed) return;

    submit.disabled = true;
    submit.textContent = 'Sending…';
    try {
      const answer = await api.enqueue(body);
      setFlash(`command:${answer.command_uuid}`, answer);
      go(path('commands', answer.command_uuid));
    } catch (error) {
      formError.textContent = describeError(error);
      submit.disabled = false;
      submit.textContent = 'Review and send…';
    }
  });

  replace(holder, targetSection, form);
  typeChanged();
}

// The MDM push certificate: what is installed and when it runs out, and (with the
// push-certificate scope) installing a renewed one. The server refuses a certificate for another
// topic while devices are enrolled on the current one; that refusal is shown as it is.

import {api, isAbort, describeError} from '../api.js';
import {h, replace, select} from '../dom.js';
import {timeEl, count} from '../format.js';
import {loading, failure} from '../notice.js';
import {facts} from '../facts.js';
import {hasScope} from '../session.js';
import {showExpiry} from '../expiry-banner.js';

export const title = 'Push certificate';
export const nav = 'push';

/** UTF-8 text as base64 (the API takes the PEM file base64-encoded). */
function textToBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function bytesToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function daysLeftText(cert) {
  if (cert.days_left < 0) return `expired ${count(-cert.days_left)} ${cert.days_left === -1 ? 'day' : 'days'} ago`;
  if (cert.days_left === 0) return 'expires today';
  return `${count(cert.days_left)} ${cert.days_left === 1 ? 'day' : 'days'} left`;
}

function certificateFacts(cert) {
  return [
    cert.warning ? h('p', {class: 'warning'}, cert.warning) : null,
    facts('push-facts', [
      ['Topic', h('span', {id: 'push-topic', class: 'mono'}, cert.topic)],
      ['Expires', h('span', {id: 'push-expiry'}, timeEl(cert.not_after), ` — ${daysLeftText(cert)}`)],
      ['Valid from', timeEl(cert.not_before)],
      ['Environment', cert.environment],
      ['Subject', h('span', {class: 'wrap'}, cert.subject)],
      ['Issuer', h('span', {class: 'wrap'}, cert.issuer)],
      ['Serial number', h('span', {class: 'mono'}, cert.serial_number)],
      ['SHA-256', h('span', {class: 'mono wrap'}, cert.sha256)],
      ['Installed', [timeEl(cert.uploaded_at), cert.uploaded_by ? ` by ${cert.uploaded_by}` : '']],
      ['Version', count(cert.version)],
      cert.last_error ? ['APNs last refused it', [cert.last_error, ' ', timeEl(cert.last_error_at, {relativeOnly: true})]] : null,
    ]),
  ];
}

function uploadForm(onInstalled) {
  const pem = h('textarea', {id: 'push-pem', rows: '10', spellcheck: 'false', class: 'mono',
    'aria-describedby': 'push-pem-hint', placeholder: '-----BEGIN CERTIFICATE-----'});
  const fileStatus = h('span', {class: 'hint', 'aria-live': 'polite'});
  const password = h('input', {id: 'push-password', type: 'password', autocomplete: 'off'});
  const passwordField = h('div', {class: 'field', hidden: true},
    h('label', {for: 'push-password'}, 'Password of the .p12 file'), password);
  const environment = select({id: 'push-environment'}, [['production', 'Production (the usual)'], ['sandbox', 'Sandbox']], 'production');
  const result = h('p', {id: 'push-upload-result', role: 'status', class: 'notice'});
  const submit = h('button', {id: 'push-upload', type: 'submit', class: 'primary'}, 'Install the certificate');
  let pkcs12 = null; // {name, base64} when a binary .p12 was chosen

  const file = h('input', {id: 'push-file', type: 'file', accept: '.pem,.crt,.key,.p12,.pfx,application/x-pem-file,application/x-pkcs12'});
  file.addEventListener('change', async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const buffer = await chosen.arrayBuffer();
    const asText = new TextDecoder('utf-8', {fatal: false}).decode(buffer);
    if (asText.includes('-----BEGIN')) {
      // PEM files add up: a certificate file then a key file both land in the text area.
      pem.value = pem.value.trim() ? `${pem.value.trim()}\n${asText.trim()}\n` : asText;
      pkcs12 = null;
      passwordField.hidden = true;
      fileStatus.textContent = `${chosen.name} added to the text area.`;
    } else {
      pkcs12 = {name: chosen.name, base64: bytesToBase64(buffer)};
      passwordField.hidden = false;
      fileStatus.textContent = `${chosen.name} will be sent as a PKCS#12 file; enter its password if it has one.`;
    }
  });
  pem.addEventListener('input', () => {
    if (pem.value.trim() && pkcs12) {
      pkcs12 = null;
      passwordField.hidden = true;
      fileStatus.textContent = 'Using the text area instead of the .p12 file.';
    }
  });

  const form = h('form', {id: 'push-upload-form', class: 'card', novalidate: true},
    h('h2', null, 'Install a push certificate'),
    h('p', null, 'Renew the certificate with Apple for the same topic before it expires: a certificate for another topic cannot reach the devices enrolled on this one, and the server refuses it while such devices exist.'),
    h('div', {class: 'field'},
      h('label', {for: 'push-pem'}, 'Certificate and private key (PEM)'),
      pem,
      h('p', {class: 'hint', id: 'push-pem-hint'}, 'Paste the certificate and its unencrypted private key, one after the other, or read them from files below.')),
    h('div', {class: 'file-row'}, h('label', {for: 'push-file'}, 'Read a file (.pem, or a .p12)'), file, fileStatus),
    passwordField,
    h('div', {class: 'field'}, h('label', {for: 'push-environment'}, 'APNs environment'), environment),
    result,
    h('div', {class: 'buttons'}, submit));

  function say(message, isError) {
    // An alert for a refusal, a polite status for success.
    result.setAttribute('role', isError ? 'alert' : 'status');
    result.className = isError ? 'error' : 'notice';
    result.textContent = message;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    if (pkcs12 && !pem.value.trim()) {
      body = {pkcs12: pkcs12.base64, environment: environment.value};
      if (password.value) body.password = password.value;
    } else if (pem.value.trim()) {
      if (!pem.value.includes('-----BEGIN')) {
        say('That is not PEM: it should hold -----BEGIN CERTIFICATE----- and a private key block.', true);
        pem.focus();
        return;
      }
      body = {pem: textToBase64(pem.value), environment: environment.value};
    } else {
      say('Paste the PEM certificate and key, or choose a file.', true);
      pem.focus();
      return;
    }

    submit.disabled = true;
    say('Installing…', false);
    try {
      const cert = await api.uploadPushCertificate(body);
      say(`Installed: topic ${cert.topic}, ${daysLeftText(cert)}. Pushes use it from now on.`, false);
      pem.value = '';
      password.value = '';
      pkcs12 = null;
      file.value = '';
      onInstalled(cert);
    } catch (error) {
      say(error.status === 403 ? describeError(error) : `Not installed: ${describeError(error)}`, true);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function render(ctx) {
  const current = h('section', {id: 'push-current', class: 'card', 'aria-labelledby': 'push-current-heading'},
    h('h2', {id: 'push-current-heading'}, 'Installed certificate'), loading('Loading the certificate…'));
  const page = h('div', {id: 'push-page'}, current);
  ctx.root.append(h('h1', null, 'Push certificate'), page);

  const show = (cert) => {
    replace(current, h('h2', {id: 'push-current-heading'}, 'Installed certificate'),
      cert ? certificateFacts(cert)
        : h('p', {id: 'push-none', class: 'empty'}, 'No push certificate is installed: devices cannot be woken until one is.'));
    const banner = document.getElementById('expiry-banner');
    if (banner) showExpiry(banner, cert);
  };

  // Both at once: the form waits for the API document (to see which flags it offers).
  const answer = api.pushCertificate(ctx.signal).then((cert) => ({cert}), (error) => ({error}));
  if (hasScope('push-certificate')) page.append(uploadForm(show));

  const {cert, error} = await answer;
  if (error) {
    if (isAbort(error)) return;
    if (error.status === 404) show(null);
    else replace(current, h('h2', {id: 'push-current-heading'}, 'Installed certificate'), failure(error));
    return;
  }
  show(cert);
}

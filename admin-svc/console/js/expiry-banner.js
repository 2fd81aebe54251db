// The push certificate is what wakes every device: once it expires, no command reaches a device
// until it is renewed (and a certificate for another topic means re-enrolling the fleet). So
// every page warns from 30 days before. Checked once per load of the app, not per route.

import {api} from './api.js';
import {h, replace} from './dom.js';
import {hasScope} from './session.js';
import {timeEl} from './format.js';

const WARN_DAYS = 30;
let checked = false;

/** Fills #expiry-banner if the certificate expires within 30 days or has expired. */
export async function checkPushCertificateExpiry() {
  if (checked || !hasScope('read')) return;
  checked = true;
  const banner = document.getElementById('expiry-banner');
  if (!banner) return;
  let cert;
  try {
    cert = await api.pushCertificate();
  } catch {
    // None installed (404) or not readable: nothing to warn about here; the Push page says so.
    return;
  }
  showExpiry(banner, cert);
}

export function showExpiry(banner, cert) {
  if (!cert || typeof cert.days_left !== 'number' || cert.days_left > WARN_DAYS) {
    banner.hidden = true;
    return;
  }
  const when = timeEl(cert.not_after, {dateOnlyFormat: true, withRelative: false});
  const days = cert.days_left;
  const message = days < 0
    ? ['The MDM push certificate expired ', when, ': devices are no longer woken for commands. ']
    : days === 0
      ? ['The MDM push certificate expires today (', when, '). ']
      : [`The MDM push certificate expires in ${days} ${days === 1 ? 'day' : 'days'} (`, when, '). '];
  replace(banner,
    h('strong', null, days < 0 ? 'Push certificate expired. ' : 'Push certificate expiring. '),
    ...message,
    'Renew it with Apple for the same topic and upload it on the ',
    h('a', {href: '#/push'}, 'Push page'), '.');
  banner.classList.toggle('expired', days < 0);
  banner.hidden = false;
}

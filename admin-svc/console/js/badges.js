// Status badges: the status word itself is always the text (colour only repeats it), so a
// status reads the same to a screen reader, in a copy-paste and in a test.

import {h} from './dom.js';

// Statuses with a colour of their own; anything else gets the neutral badge.
const KNOWN = new Set([
  // Deliveries.
  'queued', 'acknowledged', 'error', 'command_format_error', 'cancelled', 'expired', 'superseded',
  'not_now',
  // Enrollments.
  'authenticated', 'enrolled', 'checked_out',
  // Push targets and tokens.
  'active', 'inactive', 'revoked', 'used_up',
]);

/** <span class="badge badge-error">error</span> */
export function badge(status, label = status) {
  const kind = KNOWN.has(status) ? status : 'other';
  return h('span', {class: ['badge', `badge-${kind.replace(/_/g, '-')}`]}, label);
}

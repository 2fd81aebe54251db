// How times, sizes and counts read: the browser's locale for people, the exact RFC 3339 value
// kept alongside (in <time datetime> and its title) for anyone who needs to compare or copy it.

import {h} from './dom.js';

const dateTime = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});
const dateOnly = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium'});
const relative = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto', style: 'long'});
const number = new Intl.NumberFormat();

// The unit to count in: the largest that still gives a number people read at a glance
// ("9 days", not "1 week"; "3 weeks", not "1 month").
const STEPS = [
  [45 * 60, 60, 'minute'],
  [22 * 3600, 3600, 'hour'],
  [14 * 86400, 86400, 'day'],
  [8 * 7 * 86400, 7 * 86400, 'week'],
  [365 * 86400, 30 * 86400, 'month'],
  [Infinity, 365 * 86400, 'year'],
];

/** A Date from an RFC 3339 string, or null. */
export function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "3 minutes ago", "in 2 days", "now". */
export function relativeTime(date, now = Date.now()) {
  const seconds = (date.getTime() - now) / 1000;
  const size = Math.abs(seconds);
  if (size < 45) return relative.format(0, 'second');
  for (const [below, length, unit] of STEPS) {
    if (size < below) return relative.format(Math.round(seconds / length) || Math.sign(seconds), unit);
  }
  return relative.format(0, 'second');
}

/**
 * A <time> element: "12 Mar 2025, 14:03 (3 minutes ago)", the exact value in datetime and title.
 * `empty` is what to show when there is no time (a dash by default); `relativeOnly` for tables,
 * `withRelative: false` where the sentence already says how far off it is.
 */
export function timeEl(value, {empty = '—', relativeOnly = false, dateOnlyFormat = false, withRelative = true} = {}) {
  const date = parseTime(value);
  if (!date) return h('span', {class: 'none'}, empty);
  const absolute = (dateOnlyFormat ? dateOnly : dateTime).format(date);
  const rel = relativeTime(date);
  const mode = relativeOnly ? 'relative' : withRelative ? 'both' : 'absolute';
  return h('time', {datetime: date.toISOString(), title: value, 'data-format': mode,
    'data-date-only': dateOnlyFormat ? 'yes' : null},
    timeText(mode, absolute, rel));
}

function timeText(mode, absolute, rel) {
  if (mode === 'relative') return rel;
  if (mode === 'both') return `${absolute} (${rel})`;
  return absolute;
}

/** Brings "3 minutes ago" up to date in everything shown (no request: just the clock). */
export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll('time[data-format]')) {
    const mode = el.dataset.format;
    if (mode === 'absolute') continue;
    const date = parseTime(el.getAttribute('datetime'));
    if (!date) continue;
    const absolute = (el.dataset.dateOnly ? dateOnly : dateTime).format(date);
    const next = timeText(mode, absolute, relativeTime(date));
    if (el.textContent !== next) el.textContent = next;
  }
}

/** "1,234". */
export function count(n) {
  return typeof n === 'number' && Number.isFinite(n) ? number.format(n) : '—';
}

/** "1.2 MB" (decimal units, as Apple reports capacities). */
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  if (n < 1000) return `${number.format(n)} ${n === 1 ? 'byte' : 'bytes'}`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/** "64 GB" from the inventory's GB figures. */
export function gigabytes(gb) {
  if (typeof gb !== 'number' || !Number.isFinite(gb)) return '—';
  return `${gb.toFixed(gb < 10 ? 1 : 0)} GB`;
}

/** "Yes" / "No" / "—" for a boolean the device may not have reported. */
export function yesNo(value) {
  if (value === true) return 'Yes';
  if (value === false) return 'No';
  return '—';
}

/** "85 %" from BatteryLevel's 0..1. */
export function percent(fraction) {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return '—';
  return `${Math.round(fraction * 100)} %`;
}

/** Text for a value that may be missing. */
export function text(value, empty = '—') {
  return value === null || value === undefined || value === '' ? empty : String(value);
}

/** "1 device" / "3 devices". */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

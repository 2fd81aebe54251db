// One command and its fan-out: how many deliveries stand where (from the server's counts, over
// every target, not just the page shown), and the deliveries themselves, a page at a time. While
// any delivery is queued the page refreshes itself every 2 seconds; it stops when none is, or
// when the page is left.

import {api, isAbort, describeError} from '../api.js';
import {h, replace} from '../dom.js';
import {timeEl, count, text} from '../format.js';
import {loading, failure, empty} from '../notice.js';
import {facts} from '../facts.js';
import {badge} from '../badges.js';
import {Pager} from '../pager.js';
import {poll} from '../poller.js';
import {path, withQuery} from '../router.js';
import {hasScope} from '../session.js';
import {resultTree} from '../result-tree.js';
import {DeliveryBody, deliveryHeaders} from '../delivery-rows.js';
import {takeFlash} from '../flash.js';

export const title = 'Command';
export const nav = 'devices';

const PAGE_SIZE = 50;
const REFRESH_MS = 2000;

// The fan-out, in the order a command moves through.
const FANOUT = [
  ['queued', 'Queued'],
  ['not_now', 'Device busy (NotNow)'],
  ['acknowledged', 'Acknowledged'],
  ['error', 'Error'],
  ['command_format_error', 'Command format error'],
  ['cancelled', 'Cancelled'],
  ['expired', 'Expired'],
];
const FILTERS = new Set(['queued', 'acknowledged', 'error', 'command_format_error', 'cancelled',
  'expired', 'superseded']);

function pushOutcome(answer) {
  const p = answer.push || {};
  const parts = [`Queued for ${count(answer.targets)} ${answer.targets === 1 ? 'device' : 'devices'}.`];
  if (answer.duplicate) parts.push('(This repeats an earlier request: it is that command.)');
  if (!p.attempted) {
    parts.push(p.error ? `Not pushed: ${p.error}.` : 'Not pushed: the devices get it at their next check-in.');
  } else {
    const outcomes = Object.entries(p.outcomes || {}).map(([k, n]) => `${k} ${n}`).join(', ');
    parts.push(`Push: ${count(p.delivered)} delivered, ${count(p.not_delivered)} not delivered${outcomes ? ` (${outcomes})` : ''}.`);
    if (p.error) parts.push(p.error);
  }
  const warnings = answer.warnings || [];
  if (warnings.length) parts.push(`Queued although they cannot run it: ${warnings.join('; ')}.`);
  return parts.join(' ');
}

export async function render(ctx) {
  const uuid = ctx.params.uuid;
  const filter = FILTERS.has(ctx.query.get('status')) ? ctx.query.get('status') : null;
  const heading = h('h1', null, 'Command');
  const page = h('div', {id: 'command-page', 'aria-busy': 'true'}, loading('Loading the command…'));
  ctx.root.append(heading, page);

  let command;
  try {
    command = await api.command(uuid, ctx.signal);
  } catch (error) {
    if (isAbort(error)) return;
    page.removeAttribute('aria-busy');
    replace(page, error.status === 404 ? empty(`No command has the UUID ${uuid}.`) : failure(error));
    return;
  }
  heading.textContent = `${command.request_type} command`;
  ctx.setTitle(`${command.request_type} command`);

  const flash = takeFlash(`command:${uuid}`);
  const factsHolder = h('div');
  const fanout = h('ul', {id: 'fanout', class: 'fanout'});
  const actionResult = h('p', {id: 'cancel-result', role: 'status', class: 'notice'});
  const live = h('p', {class: 'hint', role: 'status', 'aria-live': 'polite'});
  const problem = h('p', {class: 'error', role: 'alert', id: 'deliveries-error'});
  const cancelButton = h('button', {type: 'button', id: 'cancel-command', class: 'danger', hidden: true},
    'Cancel for the devices still waiting');
  const canCancel = hasScope('commands');

  function drawFacts() {
    replace(factsHolder, facts('command-facts', [
      ['Request type', command.request_type],
      ['Command UUID', h('span', {class: 'mono'}, command.command_uuid)],
      ['Queued by', text(command.requested_by)],
      ['Queued', timeEl(command.created_at)],
      ['Reason', text(command.reason)],
      ['Priority', String(command.priority)],
      ['Expires', timeEl(command.expires_at, {empty: 'never'})],
      command.cancelled_at ? ['Cancelled', [timeEl(command.cancelled_at), command.cancelled_by ? ` by ${command.cancelled_by}` : '']] : null,
    ]));
  }

  function queuedCount() {
    return (command.status_counts && command.status_counts.queued) || 0;
  }

  function drawFanout() {
    const counts = command.status_counts || {};
    const entries = [...FANOUT];
    if (counts.superseded) entries.push(['superseded', 'Superseded (device re-enrolled)']);
    replace(fanout, entries.map(([status, label]) => {
      // The server counts every status, and `not_now`: the queued deliveries the device put off
      // (a part of `queued`; the link lists the queued ones).
      const n = counts[status] || 0;
      const target = status === 'not_now' ? 'queued' : status;
      const current = filter === target;
      return h('li', {'data-status': status, class: [n === 0 && 'zero', current && 'current']},
        h('a', {href: withQuery(path('commands', uuid), {status: current ? null : target}),
          'aria-current': current ? 'true' : null},
        badge(status, label), ' ', h('span', {class: 'count'}, count(n))));
    }));
    cancelButton.hidden = !(canCancel && queuedCount() > 0);
  }

  // Deliveries.
  const body = new DeliveryBody('device', filter ? `No delivery is ${filter}.` : 'This command has no deliveries.');
  const table = h('table', {id: 'deliveries', class: 'data'},
    h('caption', null, filter ? `Deliveries that are ${filter}, by enrollment ID` : 'Deliveries, by enrollment ID',
      filter ? [' — ', h('a', {href: path('commands', uuid)}, 'show all')] : null),
    h('thead', null, deliveryHeaders('device')), body.element);

  async function loadDeliveries(cursor) {
    const result = await api.deliveries(uuid, {limit: PAGE_SIZE, cursor, status: filter || undefined}, ctx.signal);
    const items = result.items || [];
    body.show(items);
    return result.next_cursor || null;
  }

  const pager = new Pager('deliveries', async (cursor) => {
    body.notice('Loading deliveries…');
    problem.textContent = '';
    try {
      const next = await loadDeliveries(cursor);
      drawFanout();
      return next;
    } catch (error) {
      if (!isAbort(error)) {
        body.notice('The deliveries could not be loaded.', 'error');
        problem.textContent = describeError(error);
      }
      return null;
    }
  });

  let poller = null;
  function watch() {
    const waiting = queuedCount() > 0;
    live.textContent = waiting
      ? `${count(queuedCount())} still queued; this page refreshes every 2 seconds.`
      : 'Every delivery has an outcome.';
    if (waiting && (!poller || !poller.running)) {
      poller = poll(ctx.signal, REFRESH_MS, async () => {
        try {
          command = await api.command(uuid, ctx.signal);
          pager.next = await loadDeliveries(pager.cursor);
          pager.update();
          problem.textContent = '';
        } catch (error) {
          if (!isAbort(error)) problem.textContent = `Refreshing failed: ${describeError(error)}`;
          throw error;
        }
        drawFacts();
        drawFanout();
        const still = queuedCount() > 0;
        if (!still) live.textContent = 'Every delivery has an outcome.';
        return still;
      });
    }
  }

  cancelButton.addEventListener('click', async () => {
    cancelButton.disabled = true;
    actionResult.className = 'notice';
    actionResult.textContent = 'Cancelling…';
    try {
      command = await api.cancelCommand(uuid);
      pager.next = await loadDeliveries(pager.cursor);
      pager.update();
      drawFacts();
      drawFanout();
      live.textContent = '';
      actionResult.textContent = 'Cancelled: the devices still waiting will not receive it.';
    } catch (error) {
      if (isAbort(error)) return;
      actionResult.className = 'error';
      actionResult.textContent = describeError(error);
    } finally {
      cancelButton.disabled = false;
    }
  });

  drawFacts();
  replace(page,
    flash ? h('p', {class: 'notice', role: 'status', id: 'enqueue-result'}, pushOutcome(flash)) : null,
    h('div', {class: 'grid'},
      h('section', {class: 'card', 'aria-labelledby': 'about-heading'},
        h('h2', {id: 'about-heading'}, 'About'), factsHolder),
      h('section', {class: 'card', 'aria-labelledby': 'fanout-heading'},
        h('h2', {id: 'fanout-heading'}, 'Where it stands'), fanout,
        canCancel ? h('div', {class: 'toolbar'}, cancelButton) : null, actionResult, live)),
    h('section', {class: 'card', id: 'command-json', 'aria-labelledby': 'command-json-heading'},
      h('h2', {id: 'command-json-heading'}, 'The command as sent'),
      command.command ? resultTree(command.command) : h('p', {class: 'empty'}, 'Not available.')),
    h('section', {class: 'card', 'aria-labelledby': 'deliveries-heading'},
      h('h2', {id: 'deliveries-heading'}, 'Deliveries'),
      problem,
      h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Deliveries table'}, table),
      pager.element));
  page.removeAttribute('aria-busy');
  drawFanout();
  await pager.first();
  watch();
}

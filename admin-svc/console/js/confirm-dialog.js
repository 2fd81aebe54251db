// The confirmation every consequential action passes through: a modal <dialog> with a heading,
// what is about to happen, and two buttons. Cancel is focused first so Enter never confirms by
// accident; Escape cancels. Only one exists at a time (the IDs are fixed for tests and tools).

import {h} from './dom.js';

/**
 * confirmAction({title, body: [nodes], ok: 'Send', danger: true}) → Promise<boolean>
 */
export function confirmAction({title, body = [], ok = 'OK', cancel = 'Cancel', danger = false}) {
  document.getElementById('confirm-dialog')?.remove();

  const okButton = h('button', {type: 'button', id: 'confirm-ok', class: danger ? 'danger' : 'primary'}, ok);
  const cancelButton = h('button', {type: 'button', id: 'confirm-cancel', class: 'secondary'}, cancel);
  const dialog = h('dialog', {id: 'confirm-dialog', 'aria-labelledby': 'confirm-title',
    class: danger ? 'danger' : null},
  h('h2', {id: 'confirm-title'}, title),
  h('div', {class: 'dialog-body'}, body),
  h('div', {class: 'dialog-buttons'}, cancelButton, okButton));

  // Inside <main> so it stays within a landmark; a modal dialog is on top of everything anyway.
  (document.getElementById('main') || document.body).append(dialog);
  const opener = document.activeElement;

  return new Promise((resolve) => {
    let answer = false;
    okButton.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    cancelButton.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(answer);
    }, {once: true});
    dialog.showModal();
    cancelButton.focus();
  });
}

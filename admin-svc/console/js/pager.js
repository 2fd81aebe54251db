// Cursor paging. The API only goes forward (`next_cursor`), so going back means remembering the
// cursors that led here: a stack, kept in memory for the page being viewed.

import {h} from './dom.js';

export class Pager {
  /**
   * `load(cursor)` fetches and shows one page and resolves to its next_cursor (or null).
   * `idPrefix` names the buttons: `${idPrefix}-prev`, `${idPrefix}-next`.
   */
  constructor(idPrefix, load) {
    this.load = load;
    this.stack = [];        // cursors of the pages before this one (null = the first page)
    this.cursor = null;     // this page's cursor
    this.next = null;       // the following page's cursor, once known
    this.prevButton = h('button', {type: 'button', id: `${idPrefix}-prev`, class: 'secondary',
      onclick: () => this.previous()}, 'Previous page');
    this.nextButton = h('button', {type: 'button', id: `${idPrefix}-next`, class: 'secondary',
      onclick: () => this.forward()}, 'Next page');
    this.position = h('span', {class: 'page-position', 'aria-live': 'polite'});
    this.element = h('div', {class: 'pager'}, this.prevButton, this.position, this.nextButton);
    this.update();
  }

  /** Page number, from 1. */
  get page() {
    return this.stack.length + 1;
  }

  /** Loads the first page (again). */
  async first() {
    this.stack = [];
    return this.show(null);
  }

  /** Loads the current page again (polling), keeping the position. */
  async refresh() {
    return this.show(this.cursor);
  }

  async forward() {
    if (!this.next) return;
    this.stack.push(this.cursor);
    await this.show(this.next);
  }

  async previous() {
    if (this.stack.length === 0) return;
    await this.show(this.stack.pop());
  }

  async show(cursor) {
    this.cursor = cursor;
    this.busy(true);
    try {
      this.next = await this.load(cursor);
    } finally {
      this.busy(false);
    }
    return this.next;
  }

  busy(on) {
    this.prevButton.disabled = on || this.stack.length === 0;
    this.nextButton.disabled = on || !this.next;
    if (!on) this.update();
  }

  update() {
    this.prevButton.disabled = this.stack.length === 0;
    this.nextButton.disabled = !this.next;
    this.position.textContent = `Page ${this.page}`;
  }
}

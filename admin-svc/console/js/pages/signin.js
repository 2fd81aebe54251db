// Sign-in: the admin token's secret is exchanged once for an HttpOnly session cookie. The secret
// is not kept anywhere in the page afterwards (the field is cleared).

import {h} from '../dom.js';
import {signIn} from '../session.js';
import {describeError} from '../api.js';

export const title = 'Sign in';
export const nav = null;

export async function render(ctx) {
  const error = h('p', {id: 'signin-error', class: 'error', role: 'alert'});
  const notice = h('p', {id: 'signin-notice', class: 'notice', role: 'status'});
  if (ctx.notice) {
    (ctx.notice.alert ? error : notice).textContent = ctx.notice.text;
  }
  const token = h('input', {id: 'token', name: 'token', type: 'password',
    autocomplete: 'current-password', required: true, spellcheck: 'false',
    'aria-describedby': 'token-hint'});
  const submit = h('button', {id: 'signin-submit', type: 'submit', class: 'primary'}, 'Sign in');

  // POST, so that even a submit the script did not catch never puts the secret in a URL.
  const form = h('form', {id: 'signin-form', class: 'card narrow', method: 'post', novalidate: true},
    h('div', {class: 'field'},
      h('label', {for: 'token'}, 'Admin token'),
      token,
      h('p', {class: 'hint', id: 'token-hint'},
        'The secret of an admin token (from the configuration or made with mdmctl admin-tokens create). ',
        'The console opens a session with it; what you can do follows the token\'s scopes.')),
    error,
    h('div', {class: 'buttons'}, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const secret = token.value.trim();
    notice.textContent = '';
    if (!secret) {
      error.textContent = 'Enter an admin token.';
      token.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = '';
    notice.textContent = 'Signing in…';
    try {
      await signIn(secret);
      token.value = '';
      notice.textContent = '';
      ctx.afterSignIn();
    } catch (failure) {
      notice.textContent = '';
      error.textContent = failure.status === 401
        ? `Not signed in: ${describeError(failure)}`
        : describeError(failure);
      submit.disabled = false;
      token.select();
      token.focus();
    }
  });

  ctx.root.append(h('h1', null, 'Sign in'), notice, form);
  token.focus();
}

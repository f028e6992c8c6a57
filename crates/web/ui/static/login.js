// The staff login form: signs in through the API (which sets the session cookie), then goes on.
import { api, bindForm } from './app.js';

const form = document.getElementById('login-form');
bindForm(form, async (data) => {
  await api('POST', '/auth/login', { login: data.login || '', password: data.password || '' });
  location.href = form.dataset.next || '/';
});

// Helpers the journeys share: signing in, calling the API for setup and checks, and plain assertions
// (playwright-core has no test runner).
import assert from 'node:assert/strict';

export { assert };

/** Signs in on /login as `username` (demo password) and waits for the face the role lands on. */
export async function loginStaff(page, username, { next = '', password = 'quanyu-demo' } = {}) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/login')),
    page.getByRole('button', { name: /登录|Log in/ }).click(),
  ]);
}

/** Waits until `locator`'s text matches `pattern` (a RegExp or string). */
export async function waitText(locator, pattern, timeout = 10_000) {
  const re = pattern instanceof RegExp ? pattern : new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.textContent().catch(() => '')) || '';
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} in: ${text.slice(0, 500)}`);
}

/** Calls the API as `token` (a journey's setup and checks; the faces are driven through the page). */
export async function callApi(baseURL, token, method, path, body, key) {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(`${baseURL}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Signs `username` in through the API (demo password): their bearer token. */
export async function apiToken(baseURL, username) {
  const res = await fetch(`${baseURL}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: username, password: 'quanyu-demo' }),
  });
  return (await res.json()).token;
}

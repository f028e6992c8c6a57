// The audience editor: a live count while typing (debounced POST /audiences/count, the newest
// answer wins), the position of a syntax error marked in a copy of the expression, saving,
// CSV export, and hand-offs of saved audiences (coupons, guide tasks).
import { api, bindForm, toast, clearErrors, showError, newKey, esc, ApiError, lang } from '/assets/app.js';

const form = document.getElementById('audience-form');
const input = form.querySelector('[name=expression]');
const count = document.getElementById('live-count');
const mark = document.getElementById('expr-mark');
const error = document.getElementById('f-expression-error');
const S = document.getElementById('audience-strings').dataset;
const formatter = new Intl.NumberFormat(lang);

/** Marks line `line`, column `column` (1-based, in characters) of `text`. */
function showMark(text, line, column) {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) offset += [...lines[i]].length + 1;
  const chars = [...text];
  const at = Math.min(offset + column - 1, chars.length);
  const before = chars.slice(0, at).join('');
  const bad = chars[at] && chars[at] !== '\n' ? chars[at] : ' ';
  const after = chars.slice(at + (chars[at] && chars[at] !== '\n' ? 1 : 0)).join('');
  mark.innerHTML = `${esc(before)}<mark data-error-at="${at}">${esc(bad)}</mark>${esc(after)}`;
  mark.hidden = false;
  // Select the spot in the textarea too, without stealing focus from typing.
  if (document.activeElement !== input) input.setSelectionRange(before.length, before.length + 1);
}

function clearMark() {
  mark.hidden = true;
  mark.textContent = '';
  error.hidden = true;
  error.textContent = '';
  input.removeAttribute('aria-invalid');
}

let timer = null;
let asked = 0;
async function recount() {
  const text = input.value;
  const ticket = ++asked;
  if (!text.trim()) { clearMark(); count.textContent = '—'; return; }
  count.setAttribute('aria-busy', 'true');
  try {
    const out = await api('POST', '/audiences/count', { expression: text });
    if (ticket !== asked) return;
    clearMark();
    count.textContent = `${formatter.format(out.count)} ${form.dataset.countLabel}`;
    count.dataset.count = String(out.count);
  } catch (err) {
    if (ticket !== asked) return;
    count.textContent = '—';
    delete count.dataset.count;
    error.textContent = err.message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    const at = err.body?.error?.position;
    if (at) showMark(text, at.line, at.column); else { mark.hidden = true; }
  } finally {
    if (ticket === asked) count.removeAttribute('aria-busy');
  }
}

input.addEventListener('input', () => {
  clearTimeout(timer);
  count.textContent = form.dataset.counting;
  timer = setTimeout(recount, 300);
});
if (input.value.trim()) recount();

document.querySelector('[data-tag-chips]')?.addEventListener('click', (event) => {
  const chip = event.target.closest('[data-insert]');
  if (!chip) return;
  const joiner = input.value.trim() ? ' and ' : '';
  input.value = `${input.value.trimEnd()}${joiner}${chip.dataset.insert}`;
  input.dispatchEvent(new Event('input'));
  input.focus();
});

bindForm(form, async (data) => {
  const saved = await api('POST', '/audiences', { name: data.name || '', expression: data.expression || '' });
  toast(`${S.saved}: ${saved.name} (${formatter.format(saved.count)})`);
  location.reload();
});

/** Downloads the members of `expression` as CSV (the export is a POST). */
async function exportCsv(expression, name) {
  const res = await fetch('/api/v1/audiences/export', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'accept-language': lang, 'idempotency-key': newKey() },
    body: JSON.stringify({ expression }),
  });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiError(res.status, body);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: `${name || 'audience'}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

form.querySelector('[data-export]').addEventListener('click', async () => {
  clearErrors(form);
  try { await exportCsv(input.value, form.querySelector('[name=name]').value); } catch (err) { showError(form, err); }
});

document.querySelector('[data-saved-audiences]')?.addEventListener('click', async (event) => {
  const row = event.target.closest('[data-audience-id]');
  const button = event.target.closest('button');
  if (!row || !button) return;
  if (button.hasAttribute('data-edit')) {
    input.value = row.dataset.expression;
    input.dispatchEvent(new Event('input'));
    input.focus();
    return;
  }
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const id = row.dataset.audienceId;
    if (button.hasAttribute('data-export-saved')) {
      await exportCsv(row.dataset.expression, row.querySelector('td').firstChild.textContent.trim());
    } else if (button.dataset.handoff === 'coupons') {
      const out = await api('POST', `/audiences/${id}/coupons`, { template_id: row.querySelector('[name=template_id]').value }, { key: newKey() });
      toast(S.issued.replace('%1', out.issued).replace('%2', out.already).replace('%3', out.refused));
    } else if (button.dataset.handoff === 'tasks') {
      const out = await api('POST', `/audiences/${id}/guide-tasks`, { title: row.querySelector('[name=title]').value }, { key: newKey() });
      toast(S.tasks.replace('%1', out.created));
    }
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err), true);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
});

// Referral settings, commission rules and payout settlement, through the API.
import { api, bindForm, toast, ApiError } from '/assets/app.js';

const int = (v) => (v === undefined ? 0 : Number.parseInt(v, 10));
/** "12.5" (%) → 1250 basis points, without floats. */
function basisPoints(text, field) {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(String(text ?? '0'));
  if (!m) throw new ApiError(422, { error: { field, message: document.body.dataset.percentInvalid || '%' } });
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

const program = document.getElementById('program-form');
if (program) bindForm(program, async (data) => {
  await api('PUT', '/referral-program', {
    inviter_points: int(data.inviter_points), inviter_template_id: data.inviter_template_id || null,
    invitee_points: int(data.invitee_points), invitee_template_id: data.invitee_template_id || null,
  });
  location.reload();
});

const rules = document.getElementById('rules-form');
if (rules) bindForm(rules, async (data) => {
  const current = JSON.parse(rules.dataset.skuRates || '{}');
  await api('PUT', '/commission-rules', {
    level1_bp: basisPoints(data.level1_bp, 'level1_bp'), level2_bp: basisPoints(data.level2_bp, 'level2_bp'),
    return_window_days: int(data.return_window_days), sku_rates: current.sku_rates || [],
  });
  location.reload();
});

document.querySelector('[data-payouts]')?.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-settle]');
  if (!button) return;
  const row = button.closest('[data-payout-id]');
  button.disabled = true;
  try {
    const note = row.querySelector('[name=note]').value.trim() || null;
    await api('POST', `/payouts/${row.dataset.payoutId}/settle`, { outcome: button.dataset.settle, note });
    location.reload();
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err), true);
    button.disabled = false;
  }
});

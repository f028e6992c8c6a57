// The single customer view's actions, through the API: add or remove a tag, give a coupon,
// adjust points (with an Idempotency-Key). The page reloads to show the result.
import { api, bindForm, toast, ApiError } from '/assets/app.js';

const box = document.getElementById('member-actions');
const id = box?.dataset.customerId || document.querySelector('[data-customer-id]')?.dataset.customerId;

const tagForm = document.getElementById('tag-form');
if (tagForm) bindForm(tagForm, async (data) => {
  await api('POST', `/customers/${id}/tags`, { tag: (data.tag || '').trim() });
  location.reload();
});

const couponForm = document.getElementById('coupon-form');
if (couponForm) bindForm(couponForm, async (data, key) => {
  await api('POST', `/coupon-templates/${data.template_id}/coupons`, { customer_id: id }, { key });
  location.reload();
});

const pointsForm = document.getElementById('points-form');
if (pointsForm) bindForm(pointsForm, async (data, key) => {
  const points = Number.parseInt(data.points, 10);
  if (!Number.isSafeInteger(points) || points === 0) {
    throw new ApiError(422, { error: { message: pointsForm.dataset.invalid, field: 'points' } });
  }
  await api('POST', `/customers/${id}/points/adjustments`, { points, reason: data.reason || '' }, { key });
  location.reload();
});

document.querySelector('[data-tags]')?.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-untag]');
  if (!button || !id) return;
  button.disabled = true;
  try {
    await api('POST', `/customers/${id}/untag`, { tag: button.dataset.untag });
    location.reload();
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err), true);
    button.disabled = false;
  }
});

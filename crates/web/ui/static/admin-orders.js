// The order page's actions: fulfilment steps, cancel and line refunds, each through the API;
// the page reloads to show the new status and timeline.
import { api, bindForm, toast, newKey, ApiError } from '/assets/app.js';

const actions = document.querySelector('[data-order-actions]');
if (actions) {
  const id = actions.dataset.orderId;
  actions.addEventListener('click', async (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      if (button.dataset.step) await api('POST', `/orders/${id}/steps`, { step: button.dataset.step });
      else if (button.hasAttribute('data-cancel')) await api('POST', `/orders/${id}/cancel`, {});
      location.reload();
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), true);
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
}

const refund = document.getElementById('refund-form');
if (refund && refund.querySelector('[type=submit]')) {
  bindForm(refund, async (data, key) => {
    const lines = Object.entries(data)
      .filter(([name, value]) => name.startsWith('line-') && Number(value) > 0)
      .map(([name, value]) => ({ line_no: Number(name.slice(5)), quantity: Number(value) }));
    if (!lines.length) throw new ApiError(422, { error: { message: refund.dataset.none || '', field: null } });
    await api('POST', `/orders/${refund.dataset.orderId}/refunds`, { lines, reason: data.reason || null }, { key: key || newKey() });
    location.reload();
  });
}

// The guide workbench: tag a customer, give a coupon, mark a follow-up done (each through the
// JSON API, coupons with an Idempotency-Key), and copy a share link (Clipboard API, falling back
// to selecting the text and the copy command).

import { api, bindForm, toast } from '/assets/app.js';

const messages = document.querySelector('[data-messages]')?.dataset ?? {};

for (const form of document.querySelectorAll('[data-tag-form]')) {
  bindForm(form, async (data) => {
    await api('POST', `/customers/${form.dataset.tagForm}/tags`, { tag: data.tag });
    location.reload();
  });
}

for (const form of document.querySelectorAll('[data-coupon-form]')) {
  bindForm(form, async (data, key) => {
    await api('POST', `/coupon-templates/${data.template_id}/coupons`, { customer_id: form.dataset.couponForm }, { key });
    const button = form.querySelector('[type=submit]');
    toast(button?.dataset.done || '');
    setTimeout(() => location.reload(), 600);
  });
}

for (const form of document.querySelectorAll('[data-task-done]')) {
  bindForm(form, async (data) => {
    await api('POST', `/guide-tasks/${form.dataset.taskDone}/done`, data.note ? { note: data.note } : {});
    if (form.dataset.after === 'remove') {
      const item = form.closest('[data-task]');
      const list = item?.parentElement;
      item?.remove();
      toast(messages.msgTaskDone || '');
      // The board's sections and counts are the server's: reload once a section empties.
      if (list && !list.children.length) location.reload();
      else document.querySelector('[data-task] input, [data-task] button')?.focus();
    } else {
      location.reload();
    }
  });
}

for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const input = document.querySelector(button.dataset.copy);
    if (!input) return;
    const text = input.value;
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); copied = true; } catch { copied = false; }
    }
    if (!copied) {
      input.focus();
      input.select();
      input.setSelectionRange(0, text.length);
      try { copied = document.execCommand('copy'); } catch { copied = false; }
    }
    button.dataset.state = copied ? 'copied' : 'failed';
    toast(copied ? button.dataset.copied : button.dataset.copyFailed, !copied);
  });
}

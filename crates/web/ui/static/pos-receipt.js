// A receipt: print it (button or P), or go back to the till for the next sale (Esc).
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
}
document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === 'p' || event.key === 'P') { event.preventDefault(); window.print(); }
  if (event.key === 'Escape') location.href = '/pos';
});

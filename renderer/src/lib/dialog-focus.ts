// A modal dialog's keyboard contract: Tab and Shift+Tab stay inside it, Escape closes it, and
// focus goes back to where it was when the dialog closes.
import type { Action } from 'svelte/action';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export const dialogFocus: Action<HTMLElement, () => void> = (dialog, close) => {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  let onClose = close;
  const focusable = () => [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => element.offsetParent !== null);
  // Listened for on the whole window: the keys work even while focus is still outside the dialog.
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== 'Tab') return;
    const elements = focusable();
    const first = elements[0];
    const last = elements[elements.length - 1];
    if (!first || !last) return;
    if (!dialog.contains(document.activeElement)) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    } else if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };
  window.addEventListener('keydown', onKey, true);
  if (!dialog.contains(document.activeElement)) (dialog.querySelector<HTMLElement>('[autofocus]') ?? focusable()[0])?.focus();
  return {
    update(next) {
      onClose = next;
    },
    destroy() {
      window.removeEventListener('keydown', onKey, true);
      // The opener may be gone (the hidden file input's button is still there; a re-rendered one is not).
      if (opener?.isConnected) opener.focus();
    },
  };
};

let nextId = 0;

/**
 * Summaries are cut at two lines; each cut one gets a "Show more" button that shows the whole
 * text (and "Show less" again). Whether a summary is cut depends on the width it gets, so one
 * ResizeObserver re-checks every shown summary when its size changes, a phone turned included.
 */
export function createSummaryToggles() {
  const buttons = new WeakMap<Element, HTMLButtonElement>();
  const observer = new ResizeObserver((entries) => {
    for (const { target } of entries) {
      const button = buttons.get(target);
      if (!button) continue;
      const expanded = button.getAttribute('aria-expanded') === 'true';
      // Kept while expanded, to close it again; otherwise only where the clamp hides text.
      button.hidden = !expanded && target.scrollHeight <= target.clientHeight + 1;
    }
  });

  return {
    /** A hidden toggle for `summary`; it shows itself once the summary is laid out and cut. */
    attach(summary: HTMLElement): HTMLButtonElement {
      summary.id ||= `summary-${++nextId}`;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link more';
      button.hidden = true;
      button.textContent = 'Show more';
      button.setAttribute('aria-expanded', 'false');
      button.setAttribute('aria-controls', summary.id);
      button.addEventListener('click', () => {
        const expand = button.getAttribute('aria-expanded') !== 'true';
        button.setAttribute('aria-expanded', String(expand));
        button.textContent = expand ? 'Show less' : 'Show more';
        summary.classList.toggle('expanded', expand);
      });
      buttons.set(summary, button);
      observer.observe(summary);
      return button;
    },
    /** Stops watching the summaries of a row that left the list. */
    detach(row: Element): void {
      for (const summary of row.querySelectorAll('.summary')) observer.unobserve(summary);
    },
  };
}

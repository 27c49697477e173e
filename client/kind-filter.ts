import {
  EVENT_KINDS,
  isShown,
  kindOfType,
  type EventKind,
} from '../src/shared/events/event-kinds.js';

/**
 * The "Show these events" checkboxes: one per kind, named by its label (the count beside it
 * describes it), so a keyboard or a screen reader toggles it like any checkbox. `onChange` gets
 * the kinds now hidden, after the boxes show them.
 */
export function createKindFilter(
  host: HTMLElement,
  hidden: readonly EventKind[],
  onChange: (hidden: Set<EventKind>) => void,
) {
  const state = new Set(hidden);
  const counts = new Map<EventKind, HTMLElement>();
  const fieldset = document.createElement('fieldset');
  fieldset.className = 'kinds';
  const legend = document.createElement('legend');
  legend.textContent = 'Show these events';
  fieldset.append(legend);
  for (const kind of EVENT_KINDS) {
    const item = document.createElement('div');
    item.className = `kind k-${kind.id}`;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = `kind-${kind.id}`;
    box.checked = !state.has(kind.id);
    box.setAttribute('aria-describedby', `kind-count-${kind.id}`);
    const label = document.createElement('label');
    label.htmlFor = box.id;
    label.innerHTML = `<svg aria-hidden="true"><use href="/icons.svg#i-${kind.icon}"></use></svg>`;
    label.append(kind.label);
    const count = document.createElement('span');
    count.className = 'kind-count';
    count.id = `kind-count-${kind.id}`;
    counts.set(kind.id, count);
    box.addEventListener('change', () => {
      if (box.checked) state.delete(kind.id);
      else state.add(kind.id);
      onChange(new Set(state));
    });
    item.append(box, label, count);
    fieldset.append(item);
  }
  host.replaceChildren(fieldset);

  return {
    hidden: (): ReadonlySet<EventKind> => state,
    shows: (type: string): boolean => isShown(type, state),
    /** Shows, next to each kind, how many of the listed events (by their types) are of it. */
    count(types: Iterable<string>): void {
      const held = new Map<EventKind, number>();
      for (const type of types) {
        const kind = kindOfType(type);
        if (kind) held.set(kind, (held.get(kind) ?? 0) + 1);
      }
      for (const [kind, element] of counts) {
        element.textContent = state.has(kind) ? 'hidden' : `${held.get(kind) ?? 0} shown`;
      }
    },
  };
}
export type KindFilter = ReturnType<typeof createKindFilter>;

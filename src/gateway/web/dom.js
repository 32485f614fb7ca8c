// A tiny element builder. Text is always inserted as text, never parsed as HTML, so strings from the
// API cannot inject markup.

// Children as given to h(): nested arrays flattened; null, undefined, false and '' dropped.
export function nodes(...children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false && c !== '');
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2).toLowerCase(), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of nodes(children)) el.append(child instanceof Node ? child : String(child));
  return el;
}

let counter = 0;
// Unique ids tie labels to controls and descriptions to buttons.
export const uid = (prefix) => `${prefix}-${++counter}`;

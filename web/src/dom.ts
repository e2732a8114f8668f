/** Small DOM helpers, so views read as the markup they build. */

type Attributes = Readonly<Record<string, string | number | boolean | undefined>>;
type Child = Node | string;

/** `element("a", { href: url }, "text")`: attributes set as attributes (`false`/`undefined` leave them out). */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

/** The element with this id, which the page must have. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`index.html has no <${type.name}> #${id}`);
  return node;
}

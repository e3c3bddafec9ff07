// Small DOM helpers for the page: element lookup that fails loudly, and an element builder that sets text with
// textContent (model names and file names come from user files and never reach innerHTML).

/** The element with this id, checked to be of the expected class. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new TypeError(`page: #${id} is missing or not a ${type.name}`);
  return el;
}

type Child = Node | string | number;

/** h("td", { class: "num" }, "12.5") -> <td class="num">12.5</td> */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (numbers are written with String()). */
export function svg(tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Resolves on the next animation frame (or a timer where frames are throttled), so the page repaints. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    requestAnimationFrame(finish);
    setTimeout(finish, 50);
  });
}

/** Loads a classic script (e.g. gpu.js's UMD build, which defines the global GPU) once. */
export function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const el = document.createElement("script");
    el.src = src;
    el.onload = () => resolve();
    el.onerror = () => reject(new Error(`${src}: could not be loaded`));
    document.head.append(el);
  });
}

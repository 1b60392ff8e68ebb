import type { CheerioAPI } from 'cheerio';

type Selection = ReturnType<CheerioAPI>;

const PATH = /^(.*?)(?:@([\w:.-]+))?$/;

/**
 * Reads a CSS selector path inside an element: `selector` (its text), `selector@attr` (an
 * attribute), `@attr` (the element's own attribute) or `.` (the element's text); whitespace runs
 * become one space.
 */
export function selectorReader($: CheerioAPI) {
  return (item: Selection, path: string): string[] => {
    const [, selector = '', attribute] = PATH.exec(path.trim()) ?? [];
    const target = selector === '' || selector === '.' ? item : item.find(selector);
    return target
      .toArray()
      .map((element) => {
        const node = $(element);
        return attribute !== undefined ? (node.attr(attribute) ?? '') : node.text();
      })
      .map((text) => text.replace(/\s+/g, ' ').trim());
  };
}

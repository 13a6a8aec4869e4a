/**
 * Escaping text for HTML output.
 */

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so `text` shows literally in HTML text or
 * in a quoted attribute.
 *
 * @example
 * escapeHtml("a<b"); // "a&lt;b"
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

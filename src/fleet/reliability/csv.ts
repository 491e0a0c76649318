/**
 * CSV (RFC 4180) for the EV-ChART-shaped exports. Rows come page by page and leave as text page
 * by page, so an export never holds more than one page of chargers.
 */

/** A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with ' (OWASP CSV injection). */
export function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function cell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (fields: readonly string[]) => `${fields.map(cell).join(',')}\r\n`;

/** The header line, then each page's rows as one chunk. */
export async function* csvChunks(header: readonly string[], pages: AsyncIterable<string[][]>): AsyncGenerator<string> {
  yield csvLine(header);
  for await (const rows of pages) if (rows.length) yield rows.map(csvLine).join('');
}

/** A column of a result table: rendering hints live here, not in the records (STYLE.md habit 13). */
export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string | number | bigint;
  readonly align?: 'left' | 'right';
}

/** Prints one JSON document on standard output, with bigint written as a decimal string. */
export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`,
  );
}

/** Renders rows as an aligned plain-text table (no colours: output is often piped). */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => String(column.value(row))));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        return columns[index]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

export function printTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): void {
  process.stdout.write(`${formatTable(rows, columns)}\n`);
}

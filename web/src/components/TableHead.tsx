/**
 * A table's header row from its column names: the console's tables are plain grids whose headers
 * are words. An empty name is a column without a heading (a row's buttons).
 */
export const TableHead = ({ columns }: { columns: ReadonlyArray<string> }) => (
  <thead>
    <tr>
      {columns.map((name, i) => (
        <th key={i}>{name === "" ? null : name}</th>
      ))}
    </tr>
  </thead>
)

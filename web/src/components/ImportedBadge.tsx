/**
 * The `imported` badge: a recording stored from a file (`POST /stats/recordings/import`), not
 * recorded by this host. Shown in the recordings list and the detail view, beside `truncated` and
 * `recovered`, so nobody reads another machine's figures as this one's.
 */
import type { CaptureMeta } from "../../../src/api/Stats.js"

export const ImportedBadge = ({ meta }: { meta: Pick<CaptureMeta, "imported"> }) =>
  meta.imported ? (
    <span className="badge info" data-testid="imported-badge" title="Imported from a capture file, not recorded by this host">
      imported
    </span>
  ) : null

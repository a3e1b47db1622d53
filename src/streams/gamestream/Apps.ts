/**
 * The apps a Moonlight client can pick: for now only "Desktop" — the host's screen as it is —
 * which is what this host streams. The id is fixed so clients' cached box art and "resume" keep
 * pointing at the same app across restarts.
 */
import type { XmlField } from "./Xml.js"

export const DESKTOP_APP_ID = 1

export const applistFields: ReadonlyArray<XmlField> = [
  [
    "App",
    [
      ["IsHdrSupported", 0],
      ["AppTitle", "Desktop"],
      ["ID", DESKTOP_APP_ID]
    ]
  ]
]

/**
 * Asks for the bearer token once, when the page was opened without the `#token=` link — which is
 * every start but the first: the host prints the token only when it generates it and otherwise
 * names the token file.
 */
import { useState } from "react"
import { ErrorNote } from "./Notes.js"

export const TokenGate = ({ onToken, message }: { onToken: (token: string) => void; message: string | null }) => {
  const [text, setText] = useState("")
  return (
    <section className="panel token-gate" aria-label="connect to the host">
      <h2>Connect to the host</h2>
      <p className="muted">
        Paste the token from the host's token file (the <code>token file:</code> line of its start names it, by default{" "}
        <code>~/.config/punktfunk/token</code>). It is kept for this browser session only.
      </p>
      <ErrorNote text={message} />
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (text.trim() !== "") onToken(text.trim())
        }}
      >
        <input type="password" aria-label="token" autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Connect</button>
      </form>
    </section>
  )
}

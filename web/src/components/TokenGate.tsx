/** Asks for the bearer token once, when the page was opened without the `#token=` link. */
import { useState } from "react"

export const TokenGate = ({ onToken, message }: { onToken: (token: string) => void; message: string | null }) => {
  const [text, setText] = useState("")
  return (
    <section className="panel token-gate" aria-label="connect to the host">
      <h2>Connect to the host</h2>
      <p className="muted">
        Paste the token the host printed (the <code>console: …#token=…</code> line, or the file it names). It is kept for
        this browser session only.
      </p>
      {message !== null ? (
        <p className="error" role="alert">
          {message}
        </p>
      ) : null}
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

/**
 * Save text as a file: `fetch` (through the typed client, with the bearer header) → Blob → a
 * temporary object URL on an `<a download>`. A plain link cannot carry the header, and the token
 * must never go in a query string.
 */
export const saveText = (text: string, filename: string, type: string): void => {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement("a")
  a.href = url
  a.download = filename
  a.rel = "noopener"
  document.body.appendChild(a)
  a.click()
  a.remove()
  // Revoke after the click has been handled; revoking at once can cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

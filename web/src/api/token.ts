/**
 * The bearer token: read once from the URL fragment the host prints (`/#token=...`), kept in
 * sessionStorage for the browser session, and the fragment wiped from the address bar so it is
 * not left in history or a screenshot. A fragment is never sent to the server; the token only
 * ever travels in the `authorization` header.
 */
const KEY = "punktfunk.token"

export const tokenFromFragment = (hash: string): string | null => {
  const params = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash)
  const token = params.get("token")
  return token !== null && token.trim() !== "" ? token.trim() : null
}

export const loadToken = (): string | null => {
  const fromUrl = tokenFromFragment(window.location.hash)
  if (fromUrl !== null) {
    saveToken(fromUrl)
    window.history.replaceState(null, "", window.location.pathname + window.location.search)
    return fromUrl
  }
  try {
    return window.sessionStorage.getItem(KEY)
  } catch {
    return null
  }
}

export const saveToken = (token: string): void => {
  try {
    window.sessionStorage.setItem(KEY, token)
  } catch {
    // Storage refused (private mode): the token lives in memory for this page only.
  }
}

export const forgetToken = (): void => {
  try {
    window.sessionStorage.removeItem(KEY)
  } catch {
    // Nothing stored.
  }
}

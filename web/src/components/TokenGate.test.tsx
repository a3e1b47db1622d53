import { cleanup, fireEvent, render, screen } from "@testing-library/react"
import { afterEach, describe, expect, it } from "vitest"
import { TokenGate } from "./TokenGate.js"

afterEach(cleanup)

// Every start but the first prints the console address without the token: the page must ask.
describe("TokenGate", () => {
  it("takes a pasted token (trimmed) and says where to find it", () => {
    const given: Array<string> = []
    render(<TokenGate onToken={(t) => given.push(t)} message={null} />)
    expect(screen.getByText("~/.config/punktfunk/token")).toBeTruthy()
    const box = screen.getByLabelText("token") as HTMLInputElement
    expect(box.type).toBe("password")
    fireEvent.click(screen.getByRole("button", { name: "Connect" }))
    expect(given).toEqual([])
    fireEvent.change(box, { target: { value: "  s3cret-token\n" } })
    fireEvent.click(screen.getByRole("button", { name: "Connect" }))
    expect(given).toEqual(["s3cret-token"])
  })

  it("shows why the last token was refused", () => {
    render(<TokenGate onToken={() => undefined} message="the host refused the token" />)
    expect(screen.getByRole("alert").textContent).toContain("refused the token")
  })
})

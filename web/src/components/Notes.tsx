/**
 * The console's one-line notes: a failure the operator must read (`role="alert"`, announced at
 * once by a screen reader) and the outcome of an action (`role="status"`). Both draw nothing while
 * there is nothing to say, so a page passes its state as it holds it (`string | null`).
 */

export const ErrorNote = ({ text, testId }: { text: string | null; testId?: string }) =>
  text === null ? null : (
    <p className="error" role="alert" data-testid={testId}>
      {text}
    </p>
  )

export const StatusNote = ({ text }: { text: string | null }) =>
  text === null ? null : (
    <p className="ok" role="status">
      {text}
    </p>
  )

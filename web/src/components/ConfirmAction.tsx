/**
 * An action that cannot be undone (deleting a recording, unpairing a client), asked twice: its
 * button, then in its place the question with "yes" and "Keep". Which row is asking is the page's
 * state (`asking`), so at most one question stands at a time.
 */

export interface ConfirmActionProps {
  /** Whether the question stands (else the action's button). */
  readonly asking: boolean
  /** The button's text ("Delete"). */
  readonly action: string
  /** The question, with what it costs ("Delete for good?"). */
  readonly question: string
  /** The confirming button's text ("Yes, delete"). */
  readonly yes: string
  /** The question's accessible name, naming the thing ("delete cap-1?"). */
  readonly dialogLabel: string
  readonly onAsk: () => void
  readonly onYes: () => void
  readonly onKeep: () => void
}

export const ConfirmAction = (props: ConfirmActionProps) =>
  props.asking ? (
    <span className="confirm" role="alertdialog" aria-label={props.dialogLabel}>
      {props.question}{" "}
      <button type="button" className="danger" onClick={props.onYes}>
        {props.yes}
      </button>
      <button type="button" onClick={props.onKeep}>
        Keep
      </button>
    </span>
  ) : (
    <button type="button" onClick={props.onAsk}>
      {props.action}
    </button>
  )

// The new password and its confirmation, as the reset and change forms ask
// for them.
import { TextField, type FieldErrors } from './Fields'

interface Props {
  password: string
  confirmation: string
  onPassword: (v: string) => void
  onConfirmation: (v: string) => void
  errors: FieldErrors
  /** data-testid of the first field; the second gets "-confirmation". */
  testid: string
  autoFocus?: boolean
}

export function NewPasswordFields(p: Props) {
  return (
    <>
      <TextField name="password" label="New password" type="password" value={p.password} onChange={p.onPassword} error={p.errors.password} autoComplete="new-password" autoFocus={p.autoFocus} testid={p.testid} required />
      <TextField
        name="password_confirmation"
        label="Repeat the new password"
        type="password"
        value={p.confirmation}
        onChange={p.onConfirmation}
        error={p.errors.password_confirmation}
        autoComplete="new-password"
        testid={`${p.testid}-confirmation`}
        required
      />
    </>
  )
}

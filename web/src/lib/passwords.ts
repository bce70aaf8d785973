// The checks and error placement that the password reset and password
// change forms share.
import { isApiError } from '../api/client'
import { placeError, type FieldErrors } from '../components/Fields'

/** Errors the form can tell before asking the server. */
export function newPasswordErrors(password: string, confirmation: string): FieldErrors {
  const errs: FieldErrors = {}
  if (!password) errs.password = 'Choose a new password.'
  if (password && confirmation !== password) errs.password_confirmation = 'The two passwords differ.'
  return errs
}

// Codes the server answers without naming a field, and the field they concern.
const fieldOfCode: Record<string, string> = {
  'password-too-short': 'password',
  'password-mismatch': 'password_confirmation',
  'invalid-credentials': 'current_password',
  'current-password-wrong': 'current_password',
}

/** Puts a server error beside the field it concerns, else above the form. */
export function placePasswordError(err: unknown, fields: readonly string[]): { fieldErrors: FieldErrors; formError: string } {
  const placed = placeError(err, fields)
  if (Object.keys(placed.fieldErrors).length || !isApiError(err)) return placed
  const field = fieldOfCode[err.code]
  if (field && fields.includes(field)) return { fieldErrors: { [field]: err.message }, formError: '' }
  return placed
}

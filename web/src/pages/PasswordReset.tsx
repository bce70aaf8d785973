import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { FormError, SubmitButton, TextField, placeError, type FieldErrors } from '../components/Fields'
import { Icon } from '../components/Icon'
import { Link, useNavigate, useSearchParams } from '../lib/router'
import { newPasswordErrors, placePasswordError } from '../lib/passwords'
import { NewPasswordFields } from '../components/NewPasswordFields'
import { AuthCard } from './AuthCard'

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('')
  const [error, setError] = useState('')
  const [formError, setFormError] = useState('')
  const [sent, setSent] = useState('')
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!email.trim()) {
      setError('Enter the e-mail address of your account.')
      return
    }
    setError('')
    setFormError('')
    setBusy(true)
    try {
      const r = await api.forgotPassword(email.trim())
      setSent(r?.message || 'If that address has an account, a reset link is on its way.')
    } catch (err) {
      const placed = placeError(err, ['email'])
      setError(placed.fieldErrors.email ?? '')
      setFormError(placed.formError)
    } finally {
      setBusy(false)
    }
  }

  return (
    <AuthCard title="Reset your password" subtitle="We'll e-mail you a link to choose a new one." testid="forgot-password-page">
      {sent ? (
        <div className="alert success" role="status" data-testid="forgot-password-sent">
          <Icon name="mail" />
          <div>{sent}</div>
        </div>
      ) : (
        <form className="form" onSubmit={submit} noValidate>
          <TextField name="email" label="E-mail" type="email" value={email} onChange={setEmail} error={error} autoComplete="username" autoFocus testid="forgot-email" required />
          <FormError message={formError} />
          <SubmitButton busy={busy} testid="forgot-submit" className="primary block">
            Send reset link
          </SubmitButton>
        </form>
      )}
      <div className="auth-foot">
        <Link to="/login" data-testid="back-to-login">
          Back to log in
        </Link>
      </div>
    </AuthCard>
  )
}

export function ResetPasswordPage() {
  const [params] = useSearchParams()
  const token = params.get('token') ?? ''
  const navigate = useNavigate()
  const [password, setPassword] = useState('')
  const [confirmation, setConfirmation] = useState('')
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs = newPasswordErrors(password, confirmation)
    setErrors(errs)
    setFormError('')
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      await api.resetPassword(token, password, confirmation)
      navigate('/login?reset=1', { replace: true })
    } catch (err) {
      const placed = placePasswordError(err, ['password', 'password_confirmation'])
      setErrors(placed.fieldErrors)
      setFormError(placed.formError)
      setBusy(false)
    }
  }

  if (!token) {
    return (
      <AuthCard title="Choose a new password" testid="reset-password-page">
        <div className="alert danger" role="alert" data-testid="reset-no-token">
          <Icon name="alertCircle" />
          <div>This link has no reset token. Open the link from the e-mail again, or ask for a new one.</div>
        </div>
        <div className="auth-foot">
          <Link to="/forgot-password">Ask for a new link</Link>
        </div>
      </AuthCard>
    )
  }

  return (
    <AuthCard title="Choose a new password" subtitle="Pick something long; a passphrase is easiest to remember." testid="reset-password-page">
      <form className="form" onSubmit={submit} noValidate>
        <NewPasswordFields password={password} confirmation={confirmation} onPassword={setPassword} onConfirmation={setConfirmation} errors={errors} testid="reset-password" autoFocus />
        <FormError message={formError} testid="reset-error" />
        {formError && (
          <div className="small">
            <Link to="/forgot-password">Ask for a new link</Link>
          </div>
        )}
        <SubmitButton busy={busy} testid="reset-submit" className="primary block">
          Set new password
        </SubmitButton>
      </form>
    </AuthCard>
  )
}

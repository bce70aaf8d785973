import { useEffect, useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { FormError, SubmitButton, TextField, placeError, type FieldErrors } from '../components/Fields'
import { Icon } from '../components/Icon'
import { Link, useNavigate, useSearchParams } from '../lib/router'
import { useSession } from '../session'
import { AuthCard, safeNext } from './AuthCard'

export const EXPIRED_MESSAGE = 'Your session expired after inactivity; please log in again.'

export function LoginPage() {
  const [params] = useSearchParams()
  const { user, setUser, refresh, loading } = useSession()
  const navigate = useNavigate()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const next = safeNext(params.get('next'))
  const expired = params.get('expired') === '1'

  // Already signed in (e.g. back button): go on.
  useEffect(() => {
    if (!loading && user) navigate(next, { replace: true })
  }, [loading, user, next, navigate])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs: FieldErrors = {}
    if (!email.trim()) errs.email = 'Enter your e-mail address.'
    if (!password) errs.password = 'Enter your password.'
    setErrors(errs)
    setFormError('')
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      const { user } = await api.login(email.trim(), password)
      // A new session comes with a new CSRF token.
      await refresh()
      setUser(user)
      navigate(next, { replace: true })
    } catch (err) {
      const placed = placeError(err, ['email', 'password'])
      setErrors(placed.fieldErrors)
      setFormError(placed.formError)
      setBusy(false)
    }
  }

  return (
    <AuthCard title="Log in" subtitle="Manage, run and restore your backups." testid="login-page" footer={null}>
      {expired && (
        <div className="alert warning" role="status" data-testid="login-expired">
          <Icon name="alert" />
          <div>{EXPIRED_MESSAGE}</div>
        </div>
      )}
      {params.get('reset') === '1' && (
        <div className="alert success" role="status" data-testid="login-reset-done">
          <Icon name="checkCircle" />
          <div>Your password was changed. Log in with the new one.</div>
        </div>
      )}
      <form className="form" onSubmit={submit} noValidate>
        <TextField name="email" label="E-mail" type="email" value={email} onChange={setEmail} error={errors.email} autoComplete="username" autoFocus testid="login-email" required />
        <TextField
          name="password"
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          error={errors.password}
          autoComplete="current-password"
          testid="login-password"
          required
        />
        <FormError message={formError} testid="login-error" />
        <SubmitButton busy={busy} testid="login-submit" className="primary block">
          Log in
        </SubmitButton>
      </form>
      <div className="auth-foot">
        <Link to="/forgot-password" data-testid="forgot-password-link">
          Forgot your password?
        </Link>
      </div>
    </AuthCard>
  )
}

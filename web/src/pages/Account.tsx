import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { FormError, SubmitButton, TextField, type FieldErrors } from '../components/Fields'
import { PageHeader } from '../components/States'
import { useToast } from '../components/Toasts'
import { formatDateTime } from '../lib/format'
import { newPasswordErrors, placePasswordError } from '../lib/passwords'
import { NewPasswordFields } from '../components/NewPasswordFields'
import { useTheme, type ThemeChoice } from '../lib/theme'
import { useSession } from '../session'

export function AccountPage() {
  const { user, session } = useSession()
  const toast = useToast()
  const theme = useTheme()
  const [current, setCurrent] = useState('')
  const [password, setPassword] = useState('')
  const [confirmation, setConfirmation] = useState('')
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs: FieldErrors = newPasswordErrors(password, confirmation)
    if (!current) errs.current_password = 'Enter your current password.'
    setErrors(errs)
    setFormError('')
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      await api.changePassword(current, password, confirmation)
      toast.success('Your password was changed.')
      setCurrent('')
      setPassword('')
      setConfirmation('')
    } catch (err) {
      const placed = placePasswordError(err, ['current_password', 'password', 'password_confirmation'])
      setErrors(placed.fieldErrors)
      setFormError(placed.formError)
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <PageHeader title="Account" subtitle="Your profile, password and display preferences." />
      <div className="grid cols-2" style={{ alignItems: 'start' }}>
        <section className="card" data-testid="account-profile">
          <div className="card-head">
            <h2>Profile</h2>
          </div>
          <div className="card-body">
            <dl className="kv">
              <dt>Name</dt>
              <dd>{user?.name || '—'}</dd>
              <dt>E-mail</dt>
              <dd data-testid="account-email">{user?.email}</dd>
              <dt>Role</dt>
              <dd style={{ textTransform: 'capitalize' }}>{user?.role || '—'}</dd>
              <dt>Last login</dt>
              <dd>{formatDateTime(user?.last_login_at)}</dd>
              <dt>Idle timeout</dt>
              <dd>{session ? `${Math.round(session.idle_timeout_seconds / 60)} minutes` : '—'}</dd>
            </dl>
          </div>
        </section>
        <section className="card">
          <div className="card-head">
            <h2>Appearance</h2>
          </div>
          <div className="card-body">
            <div className="choice-list" role="radiogroup" aria-label="Theme">
              {(['system', 'light', 'dark'] as ThemeChoice[]).map((c) => (
                <label key={c} className={`choice ${theme.choice === c ? 'selected' : ''}`}>
                  <input type="radio" name="theme" checked={theme.choice === c} onChange={() => theme.setChoice(c)} data-testid={`theme-${c}`} />
                  <div>
                    <div className="title">{c === 'system' ? 'Same as the system' : c === 'light' ? 'Light' : 'Dark'}</div>
                  </div>
                </label>
              ))}
            </div>
          </div>
        </section>
        <section className="card">
          <div className="card-head">
            <h2>Change password</h2>
          </div>
          <form onSubmit={submit} noValidate>
            <div className="card-body form">
              <TextField
                name="current_password"
                label="Current password"
                type="password"
                value={current}
                onChange={setCurrent}
                error={errors.current_password}
                autoComplete="current-password"
                testid="account-current-password"
                required
              />
              <NewPasswordFields password={password} confirmation={confirmation} onPassword={setPassword} onConfirmation={setConfirmation} errors={errors} testid="account-new-password" />
              <FormError message={formError} />
            </div>
            <div className="card-foot">
              <SubmitButton busy={busy} testid="account-submit">
                Change password
              </SubmitButton>
            </div>
          </form>
        </section>
      </div>
    </>
  )
}

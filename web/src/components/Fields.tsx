// Form fields with their label, help and inline error, wired for screen
// readers (aria-invalid, aria-describedby).
import { useId, useState, type ReactNode } from 'react'
import { isApiError } from '../api/client'
import { Icon } from './Icon'

export type FieldErrors = Record<string, string>

/**
 * Splits an API error into a message beside its field (when the server named
 * one the form shows) and a message for the whole form.
 */
export function placeError(e: unknown, fields: readonly string[]): { fieldErrors: FieldErrors; formError: string } {
  if (isApiError(e) && e.field && fields.includes(e.field)) {
    return { fieldErrors: { [e.field]: e.message }, formError: '' }
  }
  const message = e instanceof Error ? e.message : 'Something went wrong.'
  return { fieldErrors: {}, formError: message }
}

interface BaseProps {
  name: string
  label: ReactNode
  error?: string
  help?: ReactNode
  required?: boolean
  testid?: string
  className?: string
}

function FieldShell({ id, label, error, help, required, children, className, name }: BaseProps & { id: string; children: ReactNode }) {
  return (
    <div className={`field ${className ?? ''}`} data-field={name}>
      <label htmlFor={id}>
        {label}
        {required && (
          <span className="req" aria-hidden="true">
            *
          </span>
        )}
      </label>
      {children}
      {help && !error && (
        <div className="help" id={`${id}-help`}>
          {help}
        </div>
      )}
      {error && (
        <div className="field-error" id={`${id}-error`} data-testid={`field-error-${name}`} role="alert">
          <Icon name="alertCircle" size={14} style={{ marginTop: 2, flex: 'none' }} />
          <span>{error}</span>
        </div>
      )}
    </div>
  )
}

function describedBy(id: string, error?: string, help?: ReactNode) {
  return error ? `${id}-error` : help ? `${id}-help` : undefined
}

interface TextProps extends BaseProps {
  value: string
  onChange: (v: string) => void
  type?: string
  placeholder?: string
  autoComplete?: string
  disabled?: boolean
  readOnly?: boolean
  autoFocus?: boolean
}

export function TextField(p: TextProps) {
  const id = useId()
  return (
    <FieldShell {...p} id={id}>
      <input
        id={id}
        name={p.name}
        className="input"
        type={p.type ?? 'text'}
        value={p.value}
        onChange={(e) => p.onChange(e.target.value)}
        placeholder={p.placeholder}
        autoComplete={p.autoComplete}
        disabled={p.disabled}
        readOnly={p.readOnly}
        required={p.required}
        autoFocus={p.autoFocus}
        aria-invalid={p.error ? true : undefined}
        aria-describedby={describedBy(id, p.error, p.help)}
        data-testid={p.testid ?? `field-${p.name}`}
      />
    </FieldShell>
  )
}

interface SecretProps extends TextProps {
  /** The server holds a value: blank keeps it. */
  isSet?: boolean
}

export function SecretField(p: SecretProps) {
  const id = useId()
  const [shown, setShown] = useState(false)
  return (
    <FieldShell {...p} id={id} required={p.required && !p.isSet}>
      <div className="input-wrap">
        <input
          id={id}
          name={p.name}
          className="input"
          type={shown ? 'text' : 'password'}
          value={p.value}
          onChange={(e) => p.onChange(e.target.value)}
          placeholder={p.isSet ? '•••••• set — leave blank to keep' : p.placeholder}
          autoComplete={p.autoComplete ?? 'new-password'}
          disabled={p.disabled}
          required={p.required && !p.isSet}
          aria-invalid={p.error ? true : undefined}
          aria-describedby={describedBy(id, p.error, p.help)}
          data-testid={p.testid ?? `field-${p.name}`}
          data-secret-set={p.isSet ? 'true' : undefined}
          spellCheck={false}
        />
        <button
          type="button"
          className="btn ghost sm reveal"
          onClick={() => setShown((s) => !s)}
          aria-label={shown ? 'Hide value' : 'Show value'}
          aria-pressed={shown}
          tabIndex={p.value ? 0 : -1}
        >
          <Icon name={shown ? 'eyeOff' : 'eye'} size={15} />
        </button>
      </div>
    </FieldShell>
  )
}

interface SwitchProps extends Omit<BaseProps, 'required'> {
  checked: boolean
  onChange: (v: boolean) => void
  disabled?: boolean
}

export function SwitchField(p: SwitchProps) {
  const id = useId()
  return (
    <div className={`field ${p.className ?? ''}`} data-field={p.name}>
      <label className="switch" htmlFor={id}>
        <input
          id={id}
          name={p.name}
          type="checkbox"
          role="switch"
          checked={p.checked}
          onChange={(e) => p.onChange(e.target.checked)}
          disabled={p.disabled}
          aria-checked={p.checked}
          aria-invalid={p.error ? true : undefined}
          aria-describedby={describedBy(id, p.error, p.help)}
          data-testid={p.testid ?? `field-${p.name}`}
        />
        <span className="track" aria-hidden="true" />
        <span className="field-label">{p.label}</span>
      </label>
      {p.help && !p.error && (
        <div className="help" id={`${id}-help`}>
          {p.help}
        </div>
      )}
      {p.error && (
        <div className="field-error" id={`${id}-error`} data-testid={`field-error-${p.name}`} role="alert">
          <Icon name="alertCircle" size={14} style={{ marginTop: 2, flex: 'none' }} />
          <span>{p.error}</span>
        </div>
      )}
    </div>
  )
}

interface SelectProps extends BaseProps {
  value: string
  onChange: (v: string) => void
  options: { value: string; label: string }[]
  disabled?: boolean
  placeholder?: string
}

export function SelectField(p: SelectProps) {
  const id = useId()
  return (
    <FieldShell {...p} id={id}>
      <select
        id={id}
        name={p.name}
        className="select input"
        value={p.value}
        onChange={(e) => p.onChange(e.target.value)}
        disabled={p.disabled}
        required={p.required}
        aria-invalid={p.error ? true : undefined}
        aria-describedby={describedBy(id, p.error, p.help)}
        data-testid={p.testid ?? `field-${p.name}`}
      >
        {p.placeholder !== undefined && <option value="">{p.placeholder}</option>}
        {p.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  )
}

export function FormError({ message, testid = 'form-error' }: { message: string; testid?: string }) {
  if (!message) return null
  return (
    <div className="alert danger" role="alert" data-testid={testid}>
      <Icon name="alertCircle" />
      <div>{message}</div>
    </div>
  )
}

export function SubmitButton({ busy, children, testid = 'submit', className = 'primary', disabled }: { busy: boolean; children: ReactNode; testid?: string; className?: string; disabled?: boolean }) {
  return (
    <button type="submit" className={`btn ${className}`} disabled={busy || disabled} data-testid={testid} aria-busy={busy}>
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  )
}

// The settings and secrets of a connection kind, generated from its field
// specs (/api/connection-kinds). Also used by the restore wizard for a
// target typed in.
import type { FieldSpec, KindSpec } from '../api/types'
import { SecretField, SelectField, SwitchField, TextField, type FieldErrors } from './Fields'

export interface ConnectionValues {
  settings: Record<string, string>
  secrets: Record<string, string>
}

export function emptyValues(spec: KindSpec, settings: Record<string, string> = {}): ConnectionValues {
  const s: Record<string, string> = {}
  for (const f of editableFields(spec)) {
    if (f.type === 'secret') continue
    s[f.name] = settings[f.name] ?? (f.type === 'bool' ? 'false' : f.type === 'select' ? (f.options?.[0] ?? '') : '')
  }
  return { settings: s, secrets: {} }
}

export function editableFields(spec: KindSpec): FieldSpec[] {
  return spec.fields.filter((f) => !f.managed)
}

/**
 * The request body parts: every editable setting, and only the secrets
 * typed (a blank secret keeps the stored one on update).
 */
export function toInput(spec: KindSpec, v: ConnectionValues): ConnectionValues {
  const settings: Record<string, string> = {}
  const secrets: Record<string, string> = {}
  for (const f of editableFields(spec)) {
    if (f.type === 'secret') {
      const val = v.secrets[f.name] ?? ''
      if (val !== '') secrets[f.name] = val
    } else {
      const val = (v.settings[f.name] ?? '').trim()
      if (val !== '' || f.type === 'bool') settings[f.name] = f.type === 'bool' ? (val === 'true' ? 'true' : 'false') : val
    }
  }
  return { settings, secrets }
}

/** Required fields left empty, in plain words. */
export function missingRequired(spec: KindSpec, v: ConnectionValues, secretsSet: Record<string, boolean> = {}): FieldErrors {
  const errs: FieldErrors = {}
  for (const f of editableFields(spec)) {
    if (!f.required) continue
    if (f.type === 'secret') {
      if (!v.secrets[f.name] && !secretsSet[f.name]) errs[f.name] = `${f.label} is required.`
    } else if (!(v.settings[f.name] ?? '').trim()) {
      errs[f.name] = `${f.label} is required.`
    }
  }
  return errs
}

interface Props {
  spec: KindSpec
  values: ConnectionValues
  onChange: (v: ConnectionValues) => void
  errors: FieldErrors
  secretsSet?: Record<string, boolean>
  /** Prefix for test ids, e.g. "restore-" in the restore wizard. */
  testidPrefix?: string
  only?: (f: FieldSpec) => boolean
}

export function ConnectionFields({ spec, values, onChange, errors, secretsSet = {}, testidPrefix = '', only }: Props) {
  const setSetting = (name: string, val: string) => onChange({ ...values, settings: { ...values.settings, [name]: val } })
  const setSecret = (name: string, val: string) => onChange({ ...values, secrets: { ...values.secrets, [name]: val } })
  return (
    <div className="form-grid">
      {editableFields(spec)
        .filter((f) => !only || only(f))
        .map((f) => {
          const common = {
            name: f.name,
            label: f.label,
            help: f.help,
            error: errors[f.name],
            required: f.required,
            testid: `${testidPrefix}field-${f.name}`,
          }
          switch (f.type) {
            case 'secret':
              return (
                <SecretField
                  key={f.name}
                  {...common}
                  className={f.name === 'uri' ? 'full' : undefined}
                  value={values.secrets[f.name] ?? ''}
                  onChange={(v) => setSecret(f.name, v)}
                  isSet={secretsSet[f.name]}
                />
              )
            case 'bool':
              return (
                <SwitchField
                  key={f.name}
                  {...common}
                  className="full"
                  checked={values.settings[f.name] === 'true'}
                  onChange={(v) => setSetting(f.name, v ? 'true' : 'false')}
                />
              )
            case 'select':
              return (
                <SelectField
                  key={f.name}
                  {...common}
                  value={values.settings[f.name] ?? ''}
                  onChange={(v) => setSetting(f.name, v)}
                  options={(f.options ?? []).map((o) => ({ value: o, label: o }))}
                />
              )
            default:
              return (
                <TextField
                  key={f.name}
                  {...common}
                  className={f.name === 'endpoint' ? 'full' : undefined}
                  value={values.settings[f.name] ?? ''}
                  onChange={(v) => setSetting(f.name, v)}
                  autoComplete="off"
                />
              )
          }
        })}
    </div>
  )
}

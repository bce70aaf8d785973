// The settings and secrets of a connection kind, generated from its field
// specs (/api/connection-kinds). Also used by the restore wizard for a
// target typed in.
import type { FieldSpec, KindSpec } from '../api/types'
import { editableFields, type ConnectionValues } from '../lib/connectionValues'
import { SecretField, SelectField, SwitchField, TextField, type FieldErrors } from './Fields'

export { editableFields, emptyValues, missingRequired, toInput, type ConnectionValues } from '../lib/connectionValues'

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

// A connection form's values: built from the kind's field specs, turned into
// the API's settings and secrets.
import type { FieldSpec, KindSpec } from '../api/types'

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
export function missingRequired(spec: KindSpec, v: ConnectionValues, secretsSet: Record<string, boolean> = {}): Record<string, string> {
  const errs: Record<string, string> = {}
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


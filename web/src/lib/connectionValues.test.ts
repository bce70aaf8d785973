import { describe, expect, it } from 'vitest'
import type { KindSpec } from '../api/types'
import { editableFields, emptyValues, missingRequired, toInput } from './connectionValues'

const s3: KindSpec = {
  kind: 's3_source',
  label: 'S3 bucket',
  role: 'source',
  service: 's3',
  fields: [
    { name: 'access_key_id', label: 'Access key ID', type: 'text', required: true },
    { name: 'secret_access_key', label: 'Secret access key', type: 'secret', required: true },
    { name: 'bucket', label: 'Bucket', type: 'text', required: true },
    { name: 'endpoint', label: 'Endpoint URL', type: 'text', required: false },
    { name: 'path_style', label: 'Path-style addressing', type: 'bool', required: false },
  ],
}

const drive: KindSpec = {
  kind: 'gdrive_destination',
  label: 'Google Drive folder',
  role: 'destination',
  service: 'gdrive',
  fields: [
    { name: 'folder_name', label: 'Folder name', type: 'text', required: true },
    { name: 'folder_id', label: 'Folder ID', type: 'text', required: false, managed: true },
    { name: 'refresh_token', label: 'Refresh token', type: 'secret', required: true, managed: true },
  ],
}

describe('connection values', () => {
  it('leaves managed fields out of the form', () => {
    expect(editableFields(drive).map((f) => f.name)).toEqual(['folder_name'])
    expect(missingRequired(drive, emptyValues(drive, { folder_name: 'backups' }))).toEqual({})
  })

  it('starts from the stored settings, bools as false, no secrets', () => {
    expect(emptyValues(s3, { bucket: 'b', path_style: 'true' })).toEqual({
      settings: { access_key_id: '', bucket: 'b', endpoint: '', path_style: 'true' },
      secrets: {},
    })
    expect(emptyValues(s3).settings.path_style).toBe('false')
  })

  it('sends settings trimmed, empty optional ones left out, and only secrets typed', () => {
    const v = { settings: { access_key_id: ' AK ', bucket: 'b', endpoint: '', path_style: 'true' }, secrets: { secret_access_key: '' } }
    expect(toInput(s3, v)).toEqual({ settings: { access_key_id: 'AK', bucket: 'b', path_style: 'true' }, secrets: {} })
    expect(toInput(s3, { ...v, secrets: { secret_access_key: 's3cret ' } }).secrets).toEqual({ secret_access_key: 's3cret ' })
  })

  it('always sends a bool as true or false', () => {
    expect(toInput(s3, { settings: { path_style: '' }, secrets: {} }).settings.path_style).toBe('false')
  })

  it('names required fields left empty', () => {
    const errs = missingRequired(s3, emptyValues(s3))
    expect(Object.keys(errs).sort()).toEqual(['access_key_id', 'bucket', 'secret_access_key'])
    expect(errs.bucket).toBe('Bucket is required.')
  })

  it('does not require a secret the server already holds', () => {
    const v = emptyValues(s3, { access_key_id: 'AK', bucket: 'b' })
    expect(missingRequired(s3, v, { secret_access_key: true })).toEqual({})
  })
})

import { describe, expect, it } from 'vitest'
import type { Preflight } from '../api/types'
import { buildRestoreRequest, defaultConflict, overOriginal, startBlocker, targetProblems, type RestoreChoice } from './restore'

const base: RestoreChoice = {
  mode: 'original',
  originalId: 'src-1',
  connectionId: '',
  kind: 's3_source',
  typed: { settings: {}, secrets: {} },
  prefix: '',
  database: '',
  conflict: 'skip',
  confirmOriginal: false,
}

const preflight = (p: Partial<Preflight> = {}): Preflight => ({
  writable: true,
  existing: 0,
  entries: 10,
  bytes: 100,
  estimated_seconds: 1,
  same_as_original: false,
  ...p,
})

describe('buildRestoreRequest', () => {
  it('targets the original source', () => {
    expect(buildRestoreRequest({ ...base, prefix: ' restored/ ', confirmOriginal: false }, 's3')).toEqual({
      target: { connection_id: 'src-1' },
      prefix: 'restored/',
      conflict: 'skip',
      overwrite_original: false,
    })
  })
  it('targets another connection', () => {
    expect(buildRestoreRequest({ ...base, mode: 'connection', connectionId: 'c2', conflict: 'overwrite' }, 's3').target).toEqual({ connection_id: 'c2' })
  })
  it('sends typed details with their kind, and the database for MongoDB', () => {
    const req = buildRestoreRequest(
      {
        ...base,
        mode: 'typed',
        kind: 'mongodb_source',
        typed: { settings: { database: 'shop' }, secrets: { uri: 'mongodb://x' } },
        database: 'shop_copy',
        prefix: 'ignored/',
        conflict: 'drop',
      },
      'mongodb',
    )
    expect(req).toEqual({
      target: { kind: 'mongodb_source', settings: { database: 'shop' }, secrets: { uri: 'mongodb://x' } },
      database: 'shop_copy',
      conflict: 'drop',
      overwrite_original: false,
    })
  })
  it('carries the explicit confirmation', () => {
    expect(buildRestoreRequest({ ...base, confirmOriginal: true }, 's3').overwrite_original).toBe(true)
  })
})

describe('overOriginal', () => {
  it('is true for the original bucket without a prefix', () => {
    expect(overOriginal(base, 's3', '')).toBe(true)
  })
  it('is false for the original bucket under another prefix', () => {
    expect(overOriginal({ ...base, prefix: 'restored/' }, 's3', '')).toBe(false)
  })
  it('is true for the same MongoDB database, false for another', () => {
    expect(overOriginal({ ...base, database: '' }, 'mongodb', 'shop')).toBe(true)
    expect(overOriginal({ ...base, database: 'shop' }, 'mongodb', 'shop')).toBe(true)
    expect(overOriginal({ ...base, database: 'shop_copy' }, 'mongodb', 'shop')).toBe(false)
  })
  it('is false for another target unless the server says it is the same place', () => {
    const other = { ...base, mode: 'connection' as const, connectionId: 'c2' }
    expect(overOriginal(other, 's3', '')).toBe(false)
    expect(overOriginal(other, 's3', '', preflight({ same_as_original: true }))).toBe(true)
  })
})

describe('targetProblems', () => {
  it('needs a connection when that mode is chosen', () => {
    expect(targetProblems({ ...base, mode: 'connection' }, 's3')).toHaveProperty('connection_id')
  })
  it('refuses prefixes that escape', () => {
    expect(targetProblems({ ...base, prefix: '../x' }, 's3')).toHaveProperty('prefix')
    expect(targetProblems({ ...base, prefix: '/x' }, 's3')).toHaveProperty('prefix')
    expect(targetProblems({ ...base, prefix: 'restored/2026/' }, 's3')).toEqual({})
  })
  it('refuses bad database names', () => {
    expect(targetProblems({ ...base, database: 'a b' }, 'mongodb')).toHaveProperty('database')
    expect(targetProblems({ ...base, database: 'shop_copy' }, 'mongodb')).toEqual({})
  })
})

describe('startBlocker', () => {
  it('needs a preflight', () => {
    expect(startBlocker(null, false, false)).toMatch(/check/)
  })
  it('stops on an unwritable target with its reason', () => {
    expect(startBlocker(preflight({ writable: false, writable_reason: 'AccessDenied' }), false, false)).toBe('AccessDenied')
  })
  it('needs the confirmation over the original', () => {
    expect(startBlocker(preflight(), true, false)).toMatch(/Confirm/)
    expect(startBlocker(preflight(), true, true)).toBe('')
  })
  it('defaults conflicts safely', () => {
    expect(defaultConflict('s3')).toBe('skip')
    expect(defaultConflict('mongodb')).toBe('insert')
  })
})

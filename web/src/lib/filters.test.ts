import { describe, expect, it } from 'vitest'
import { filtersToQuery, hasActiveFilters, pageCount, parseFilters, withFilter } from './filters'

describe('parseFilters', () => {
  it('reads every filter from the query', () => {
    const f = parseFilters('?status=failed&kind=backup&source_id=abc&from=2026-11-01&to=2026-11-27&page=3&per_page=50')
    expect(f).toEqual({
      status: 'failed',
      kind: 'backup',
      source_id: 'abc',
      from: '2026-11-01',
      to: '2026-11-27',
      page: 3,
      per_page: 50,
    })
  })
  it('falls back to defaults on junk', () => {
    const f = parseFilters('status=exploded&kind=x&from=yesterday&page=-2&per_page=100000')
    expect(f).toEqual({ status: '', kind: '', source_id: '', from: '', to: '', page: 1, per_page: 100 })
  })
  it('defaults for an empty query', () => {
    expect(parseFilters('')).toMatchObject({ page: 1, per_page: 25, status: '' })
  })
})

describe('filtersToQuery', () => {
  it('round-trips through parseFilters', () => {
    const f = parseFilters('?status=running&source_id=s1&from=2026-01-02&page=2')
    expect(parseFilters(filtersToQuery(f))).toEqual(f)
  })
  it('leaves defaults out', () => {
    expect(filtersToQuery(parseFilters(''))).toBe('')
    expect(filtersToQuery({ page: 1, per_page: 25, status: 'failed' })).toBe('?status=failed')
  })
})

describe('withFilter', () => {
  const base = parseFilters('?status=failed&page=4')
  it('keeps the page when only the page changes', () => {
    expect(withFilter(base, { page: 5 }).page).toBe(5)
  })
  it('goes back to page 1 when a filter changes', () => {
    const next = withFilter(base, { source_id: 'x' })
    expect(next.page).toBe(1)
    expect(next.status).toBe('failed')
    expect(next.source_id).toBe('x')
  })
})

describe('misc', () => {
  it('knows when filters are active', () => {
    expect(hasActiveFilters(parseFilters('page=3'))).toBe(false)
    expect(hasActiveFilters(parseFilters('to=2026-01-01'))).toBe(true)
  })
  it('counts pages', () => {
    expect(pageCount(0, 25)).toBe(1)
    expect(pageCount(25, 25)).toBe(1)
    expect(pageCount(26, 25)).toBe(2)
  })
})

import { describe, expect, it } from 'vitest'
import { matchPath } from './match'

describe('matchPath', () => {
  it.each([
    ['/', '/', {}],
    ['/connections', '/connections/', {}],
    ['/connections/:id', '/connections/abc', { id: 'abc' }],
    ['/operations/:id/restore', '/operations/a%20b/restore', { id: 'a b' }],
  ])('%s matches %s', (pattern, path, want) => {
    expect(matchPath(pattern, path)).toEqual(want)
  })
  it.each([
    ['/connections/:id', '/connections'],
    ['/connections/new', '/connections/abc'],
    ['/operations/:id', '/operations/x/restore'],
    ['/', '/audit'],
  ])('%s does not match %s', (pattern, path) => {
    expect(matchPath(pattern, path)).toBeNull()
  })
})

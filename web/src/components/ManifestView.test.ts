import { describe, expect, it } from 'vitest'
import { entryCount } from './ManifestView'

describe('entryCount', () => {
  it('shows the total of a whole manifest', () => {
    expect(entryCount({ totals: { entries: 3 }, entries: [{}, {}, {}] }, 3)).toBe('3')
  })
  it('says a preview is a preview', () => {
    expect(entryCount({ totals: { entries: 20000 }, entries_truncated: true }, 100)).toBe('first 100 of 20,000')
  })
  it('falls back to what it has without totals', () => {
    expect(entryCount({}, 7)).toBe('7')
  })
})

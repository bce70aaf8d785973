import { describe, expect, it } from 'vitest'
import {
  durationBetween,
  formatBytes,
  formatCount,
  formatDateTimeShort,
  formatDuration,
  formatEta,
  formatRate,
  formatRelative,
  progressRatio,
  shortHash,
} from './format'

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [16 * 1024 * 1024 * 64, '1 GiB'],
    [123.4 * 1024 ** 3, '123 GiB'],
    [500 * 1024 ** 4, '500 TiB'],
    [1.234 * 1024 ** 2, '1.23 MiB'],
  ])('%d → %s', (n, want) => {
    expect(formatBytes(n)).toBe(want)
  })
  it('shows a dash for unknown sizes', () => {
    expect(formatBytes(null)).toBe('—')
    expect(formatBytes(undefined)).toBe('—')
    expect(formatBytes(-1)).toBe('—')
    expect(formatBytes(Number.NaN)).toBe('—')
  })
})

describe('formatRate', () => {
  it('adds /s and hides zero', () => {
    expect(formatRate(5 * 1024 * 1024)).toBe('5 MiB/s')
    expect(formatRate(0)).toBe('—')
    expect(formatRate(undefined)).toBe('—')
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.4, '0s'],
    [59, '59s'],
    [60, '1m'],
    [61, '1m 1s'],
    [3600, '1h'],
    [3725, '1h 2m'],
    [86400 + 7200, '1d 2h'],
  ])('%d s → %s', (s, want) => {
    expect(formatDuration(s)).toBe(want)
  })
  it('shows a dash for negative or missing', () => {
    expect(formatDuration(-5)).toBe('—')
    expect(formatDuration(null)).toBe('—')
  })
})

describe('formatEta', () => {
  it('treats -1 as unknown', () => {
    expect(formatEta(-1)).toBe('estimating…')
    expect(formatEta(undefined)).toBe('estimating…')
  })
  it('says time left', () => {
    expect(formatEta(0)).toBe('almost done')
    expect(formatEta(125)).toBe('2m 5s left')
  })
})

describe('durationBetween', () => {
  it('measures between two times', () => {
    expect(durationBetween('2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z')).toBe(90)
  })
  it('runs to now when unfinished', () => {
    const now = Date.parse('2026-01-01T00:00:10Z')
    expect(durationBetween('2026-01-01T00:00:00Z', null, now)).toBe(10)
  })
  it('is null without a start', () => {
    expect(durationBetween(null, null)).toBeNull()
  })
})

describe('formatRelative', () => {
  const now = Date.parse('2026-11-27T12:00:00Z')
  it.each([
    ['2026-11-27T11:59:55Z', 'just now'],
    ['2026-11-27T11:59:30Z', '30 s ago'],
    ['2026-11-27T11:57:00Z', '3 min ago'],
    ['2026-11-27T09:00:00Z', '3 h ago'],
    ['2026-11-26T11:00:00Z', '1 day ago'],
    ['2026-11-20T12:00:00Z', '7 days ago'],
    ['2026-11-27T12:05:00Z', 'in 5 min'],
  ])('%s → %s', (iso, want) => {
    expect(formatRelative(iso, now)).toBe(want)
  })
  it('says never for a missing time', () => {
    expect(formatRelative(null, now)).toBe('never')
  })
})

describe('small helpers', () => {
  it('counts with separators', () => {
    expect(formatCount(1234567)).toBe('1,234,567')
  })
  it('computes a clamped ratio, null when the total is unknown', () => {
    expect(progressRatio(5, 10)).toBe(0.5)
    expect(progressRatio(15, 10)).toBe(1)
    expect(progressRatio(5, 0)).toBeNull()
  })
  it('shortens hashes', () => {
    expect(shortHash('a'.repeat(64))).toBe('aaaaaaaaaaaa…aaaa')
    expect(shortHash('abc')).toBe('abc')
    expect(shortHash('')).toBe('—')
  })
})

describe('formatDateTimeShort', () => {
  it('drops the seconds', () => {
    const iso = new Date(2026, 10, 27, 14, 3, 9).toISOString()
    expect(formatDateTimeShort(iso)).toBe('2026-11-27 14:03')
  })
  it('keeps the dash for a missing time', () => {
    expect(formatDateTimeShort(null)).toBe('—')
  })
})

import { describe, expect, it } from 'vitest'
import type { LogLine } from '../api/types'
import {
  appendLines,
  emptyBuffer,
  initialFollow,
  isAtBottom,
  levelClass,
  morePending,
  onJumpToBottom,
  onLinesAdded,
  onUserScroll,
  pollFinished,
  visibleWindow,
} from './terminal'

const line = (seq: number, message = `line ${seq}`): LogLine => ({
  seq,
  at: '2026-11-27T12:00:00Z',
  level: 'info',
  message,
})

describe('appendLines', () => {
  it('appends new lines and remembers the last seq', () => {
    const b = appendLines(emptyBuffer, [line(1), line(2)])
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2])
    expect(b.lastSeq).toBe(2)
  })
  it('ignores lines already seen (overlapping polls)', () => {
    const a = appendLines(emptyBuffer, [line(1), line(2), line(3)])
    const b = appendLines(a, [line(2), line(3), line(4)])
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4])
  })
  it('returns the same buffer when nothing is new', () => {
    const a = appendLines(emptyBuffer, [line(1)])
    expect(appendLines(a, [line(1)])).toBe(a)
    expect(appendLines(a, [])).toBe(a)
  })
  it('orders by seq and drops duplicates within one answer', () => {
    const b = appendLines(emptyBuffer, [line(3), line(1), line(3), line(2)])
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2, 3])
  })
  it('keeps gaps in seq (lines are numbered by the server)', () => {
    const b = appendLines(appendLines(emptyBuffer, [line(1)]), [line(5)])
    expect(b.lines.map((l) => l.seq)).toEqual([1, 5])
    expect(b.lastSeq).toBe(5)
  })
  it('caps the buffer and counts what it dropped', () => {
    let b = emptyBuffer
    for (let i = 1; i <= 10; i += 2) b = appendLines(b, [line(i), line(i + 1)], 4)
    expect(b.lines.map((l) => l.seq)).toEqual([7, 8, 9, 10])
    expect(b.dropped).toBe(6)
    expect(b.lastSeq).toBe(10)
  })
})

describe('auto-scroll', () => {
  const bottom = { scrollTop: 600, scrollHeight: 1000, clientHeight: 400 }
  const up = { scrollTop: 100, scrollHeight: 1000, clientHeight: 400 }
  it('detects the bottom with some slack', () => {
    expect(isAtBottom(bottom)).toBe(true)
    expect(isAtBottom({ ...bottom, scrollTop: 590 })).toBe(true)
    expect(isAtBottom(up)).toBe(false)
  })
  it('stops following when the user scrolls up and counts unseen lines', () => {
    let s = onUserScroll(initialFollow, up)
    expect(s.following).toBe(false)
    s = onLinesAdded(s, 3)
    s = onLinesAdded(s, 2)
    expect(s).toEqual({ following: false, unseen: 5 })
  })
  it('resumes when the user scrolls back to the bottom', () => {
    let s = onLinesAdded(onUserScroll(initialFollow, up), 3)
    s = onUserScroll(s, bottom)
    expect(s).toEqual({ following: true, unseen: 0 })
  })
  it('does not count lines while following', () => {
    expect(onLinesAdded(initialFollow, 10)).toBe(initialFollow)
  })
  it('keeps the same state object when nothing changes', () => {
    expect(onUserScroll(initialFollow, bottom)).toBe(initialFollow)
  })
  it('jumps back to the bottom', () => {
    expect(onJumpToBottom()).toEqual({ following: true, unseen: 0 })
  })
})

describe('polling', () => {
  it('goes on while the operation runs', () => {
    expect(pollFinished(false, 0)).toBe(false)
  })
  it('goes on after the end while lines still arrive', () => {
    expect(pollFinished(true, 12)).toBe(false)
  })
  it('stops when terminal and nothing new came', () => {
    expect(pollFinished(true, 0)).toBe(true)
  })
  it('asks again at once after a full page', () => {
    expect(morePending(1000, 1000)).toBe(true)
    expect(morePending(999, 1000)).toBe(false)
  })
})

describe('visibleWindow', () => {
  it('renders the lines in view plus overscan', () => {
    expect(visibleWindow(10_000, 2000, 400, 20, 10)).toEqual({ start: 90, end: 130 })
  })
  it('clamps at both ends', () => {
    expect(visibleWindow(50, 0, 400, 20, 10)).toEqual({ start: 0, end: 30 })
    expect(visibleWindow(50, 900, 400, 20, 10)).toEqual({ start: 35, end: 50 })
    expect(visibleWindow(0, 0, 400, 20)).toEqual({ start: 0, end: 0 })
  })
})

describe('levelClass', () => {
  it.each([
    ['ERROR', 'error'],
    ['error', 'error'],
    ['fatal', 'error'],
    ['warning', 'warn'],
    ['warn', 'warn'],
    ['debug', 'debug'],
    ['info', 'info'],
    ['notice', 'info'],
  ])('%s → %s', (lvl, want) => {
    expect(levelClass(lvl)).toBe(want)
  })
})

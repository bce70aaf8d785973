// The terminal log's state, kept apart from React so it can be tested:
// merging polled lines, following the bottom, and when polling can stop.
import type { LogLine } from '../api/types'

/** Lines kept in the page; older ones are dropped (and counted). */
export const MAX_LINES = 50_000

export interface LogBuffer {
  lines: LogLine[]
  /** Highest seq seen: the next poll asks for lines after it. */
  lastSeq: number
  /** Lines dropped from the front to stay under the cap. */
  dropped: number
}

export const emptyBuffer: LogBuffer = { lines: [], lastSeq: 0, dropped: 0 }

/**
 * Appends the lines of one poll. Lines at or below lastSeq (a repeated or
 * overlapping answer) are ignored, so the same line never shows twice; the
 * rest are appended in seq order. Returns the same buffer when nothing is new.
 */
export function appendLines(buf: LogBuffer, incoming: readonly LogLine[], max = MAX_LINES): LogBuffer {
  const seen = new Set<number>()
  const fresh: LogLine[] = []
  for (const l of incoming) {
    if (!(l.seq > buf.lastSeq) || seen.has(l.seq)) continue
    seen.add(l.seq)
    fresh.push(l)
  }
  if (fresh.length === 0) return buf
  fresh.sort((a, b) => a.seq - b.seq)
  let lines = buf.lines.concat(fresh)
  let dropped = buf.dropped
  if (lines.length > max) {
    dropped += lines.length - max
    lines = lines.slice(lines.length - max)
  }
  return { lines, lastSeq: fresh[fresh.length - 1].seq, dropped }
}

/** Pixels from the bottom that still count as "at the bottom". */
export const BOTTOM_SLACK = 32

export interface ScrollMetrics {
  scrollTop: number
  scrollHeight: number
  clientHeight: number
}

export function isAtBottom(m: ScrollMetrics, slack = BOTTOM_SLACK): boolean {
  return m.scrollHeight - m.scrollTop - m.clientHeight <= slack
}

export interface FollowState {
  /** Auto-scroll is on: new lines scroll the view to the bottom. */
  following: boolean
  /** Lines that arrived while the user was reading further up. */
  unseen: number
}

export const initialFollow: FollowState = { following: true, unseen: 0 }

/** The user scrolled: scrolling up stops following, back at the bottom resumes it. */
export function onUserScroll(s: FollowState, m: ScrollMetrics): FollowState {
  const following = isAtBottom(m)
  if (following === s.following && (!following || s.unseen === 0)) return s
  return { following, unseen: following ? 0 : s.unseen }
}

/** New lines arrived: counted as unseen unless following. */
export function onLinesAdded(s: FollowState, added: number): FollowState {
  if (added <= 0 || s.following) return s
  return { following: false, unseen: s.unseen + added }
}

/** "Jump to latest": follow again. */
export function onJumpToBottom(): FollowState {
  return initialFollow
}

/**
 * Polling stops once the operation is terminal and a log fetch made after
 * that returned nothing new: the last lines are in.
 */
export function pollFinished(terminal: boolean, newLinesThisPoll: number): boolean {
  return terminal && newLinesThisPoll === 0
}

/** The API pages logs: a full page means more are waiting right now. */
export function morePending(returned: number, limit: number): boolean {
  return returned >= limit
}

/** Rows to render for a window of a long log (fixed line height). */
export function visibleWindow(
  total: number,
  scrollTop: number,
  viewport: number,
  lineHeight: number,
  overscan = 40,
): { start: number; end: number } {
  if (total <= 0 || lineHeight <= 0) return { start: 0, end: 0 }
  const first = Math.floor(scrollTop / lineHeight)
  const count = Math.ceil(viewport / lineHeight)
  const start = Math.max(0, first - overscan)
  const end = Math.min(total, first + count + overscan)
  return { start, end: Math.max(start, end) }
}

export type LevelClass = 'debug' | 'info' | 'warn' | 'error'

export function levelClass(level: string): LevelClass {
  const l = level.toLowerCase()
  if (l.startsWith('err') || l === 'fatal') return 'error'
  if (l.startsWith('warn')) return 'warn'
  if (l === 'debug' || l === 'trace') return 'debug'
  return 'info'
}

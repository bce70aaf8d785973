// The terminal log: monospace, dark, coloured levels, timestamps, and an
// auto-scroll that stops while the user reads further up and resumes at the
// bottom. Lines come from the operation page's poller (appendLines).
import { useLayoutEffect, useRef, useState } from 'react'
import type { LogLine } from '../api/types'
import { formatClock, formatCount } from '../lib/format'
import {
  initialFollow,
  levelClass,
  onJumpToBottom,
  onLinesAdded,
  onUserScroll,
  visibleWindow,
  type FollowState,
  type LogBuffer,
} from '../lib/terminal'

/** Above this many lines only the visible window is rendered. */
export const VIRTUAL_THRESHOLD = 2000
const LINE_HEIGHT = 20

interface Props {
  buffer: LogBuffer
  /** Still polling: shows a cursor and "live". */
  live: boolean
  loading?: boolean
  pollSeconds: number
  title?: string
}

export function TerminalLog({ buffer, live, loading, pollSeconds, title = 'Log' }: Props) {
  const body = useRef<HTMLDivElement>(null)
  const [follow, setFollow] = useState<FollowState>(initialFollow)
  const followRef = useRef(follow)
  followRef.current = follow
  const seen = useRef(0)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewport, setViewport] = useState(440)
  const virtual = buffer.lines.length > VIRTUAL_THRESHOLD
  const total = buffer.lines.length + buffer.dropped

  // New lines: scroll to the bottom when following, else count them.
  useLayoutEffect(() => {
    const added = total - seen.current
    seen.current = total
    const el = body.current
    if (!el || added <= 0) return
    if (followRef.current.following) {
      el.scrollTop = el.scrollHeight
      setScrollTop(el.scrollTop)
    } else {
      setFollow((s) => onLinesAdded(s, added))
    }
  }, [total])

  const onScroll = () => {
    const el = body.current
    if (!el) return
    setFollow((s) => onUserScroll(s, el))
    if (virtual) {
      setScrollTop(el.scrollTop)
      setViewport(el.clientHeight)
    }
  }

  const jump = () => {
    const el = body.current
    if (el) el.scrollTop = el.scrollHeight
    setFollow(onJumpToBottom())
  }

  const win = virtual ? visibleWindow(buffer.lines.length, scrollTop, viewport, LINE_HEIGHT) : { start: 0, end: buffer.lines.length }
  const rows = buffer.lines.slice(win.start, win.end)

  return (
    <section
      className={`terminal ${virtual ? 'virtual' : ''}`}
      aria-label={title}
      data-testid="terminal-log"
      data-following={follow.following ? 'true' : 'false'}
      data-live={live ? 'true' : 'false'}
      data-line-count={total}
      data-last-seq={buffer.lastSeq}
    >
      <div className="terminal-bar">
        <span className="dots" aria-hidden="true">
          <i />
          <i />
          <i />
        </span>
        <span style={{ flex: 1 }}>
          {title} · {formatCount(total)} lines
          {live ? ` · live, refreshed every ${pollSeconds}s` : ' · finished'}
          {!follow.following && ' · auto-scroll paused'}
        </span>
        {!follow.following && (
          <button onClick={jump} data-testid="terminal-follow">
            Follow
          </button>
        )}
      </div>
      <div
        ref={body}
        className="terminal-body"
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label={`${title} lines`}
        data-testid="terminal-body"
      >
        {buffer.dropped > 0 && (
          <div className="terminal-empty" data-testid="terminal-dropped">
            … {formatCount(buffer.dropped)} earlier lines not shown
          </div>
        )}
        {buffer.lines.length === 0 && (
          <div className="terminal-empty" data-testid="terminal-empty">
            {loading ? 'Loading log…' : live ? 'Waiting for the first lines…' : 'No log lines.'}
          </div>
        )}
        {virtual && <div style={{ height: win.start * LINE_HEIGHT }} aria-hidden="true" />}
        {rows.map((l) => (
          <Line key={l.seq} line={l} />
        ))}
        {virtual && <div style={{ height: (buffer.lines.length - win.end) * LINE_HEIGHT }} aria-hidden="true" />}
        {live && buffer.lines.length > 0 && (
          <div className="log-line" aria-hidden="true">
            <span className="terminal-cursor" />
          </div>
        )}
      </div>
      {!follow.following && follow.unseen > 0 && (
        <button className="jump-latest" onClick={jump} data-testid="terminal-jump">
          ↓ {formatCount(follow.unseen)} new line{follow.unseen === 1 ? '' : 's'}
        </button>
      )}
    </section>
  )
}

function Line({ line }: { line: LogLine }) {
  const lvl = levelClass(line.level)
  return (
    <div className={`log-line ${lvl} ${line.origin === 'status' ? 'status' : ''}`} data-testid="log-line" data-seq={line.seq} data-level={lvl} data-origin={line.origin}>
      <span className="ts" title={line.at}>
        {formatClock(line.at)}
      </span>
      <span className="lvl">{lvl === 'error' ? 'ERR' : lvl === 'warn' ? 'WARN' : lvl === 'debug' ? 'DBG' : 'INFO'}</span>
      <span className="msg">{line.message}</span>
    </div>
  )
}

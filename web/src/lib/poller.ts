// The operation page's poll loop, apart from React so it can be tested with
// a fake API and fake timers: the operation for status and progress, then
// the log lines after the last one held (page by page), every interval;
// stopped once the operation is terminal and a poll brought nothing new.
import { TERMINAL_STATUSES, type LogLine, type LogPage, type Operation } from '../api/types'
import { morePending, pollFinished } from './terminal'

export const LOG_PAGE = 1000
/** After the end is seen, the last check comes sooner than a full interval. */
export const FINAL_CHECK_MS = 1500

export interface PollerDeps {
  /** poll is false for the first fetch (the user opened the page), true after. */
  fetchOperation: (poll: boolean) => Promise<Operation>
  fetchLogs: (after: number, limit: number, poll: boolean) => Promise<LogPage>
  onOperation: (op: Operation) => void
  onLines: (lines: LogLine[]) => void
  onLive: (live: boolean) => void
  onError: (e: Error | undefined) => void
  setTimer: (fn: () => void, ms: number) => unknown
  clearTimer: (t: unknown) => void
}

export class OperationPoller {
  private lastSeq = 0
  private timer: unknown
  private running = false
  private again = false
  private stopped = true
  private ticks = 0
  private readonly deps: PollerDeps
  private readonly intervalMs: number

  constructor(deps: PollerDeps, intervalMs: number) {
    this.deps = deps
    this.intervalMs = intervalMs
  }

  /** The seq the next log request asks after. */
  get after(): number {
    return this.lastSeq
  }

  start() {
    this.stopped = false
    void this.tick()
  }

  stop() {
    this.stopped = true
    this.deps.clearTimer(this.timer)
  }

  /** Poll now (after pause/resume/cancel), restarting a finished loop. */
  refresh() {
    if (this.stopped) return
    this.deps.onLive(true)
    void this.tick()
  }

  async tick(): Promise<void> {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    this.again = false
    this.deps.clearTimer(this.timer)
    let next = this.intervalMs
    const poll = this.ticks++ > 0
    try {
      const op = await this.deps.fetchOperation(poll)
      if (this.stopped) return
      this.deps.onOperation(op)
      this.deps.onError(undefined)
      let fresh = 0
      for (;;) {
        const page = await this.deps.fetchLogs(this.lastSeq, LOG_PAGE, poll)
        if (this.stopped) return
        const lines = (page?.lines ?? []).filter((l) => l.seq > this.lastSeq)
        if (lines.length) {
          this.lastSeq = Math.max(this.lastSeq, ...lines.map((l) => l.seq))
          this.deps.onLines(lines)
        }
        fresh += lines.length
        if (!morePending(page?.lines?.length ?? 0, LOG_PAGE)) break
      }
      const terminal = TERMINAL_STATUSES.has(op.status)
      if (pollFinished(terminal, fresh) && !this.again) {
        this.deps.onLive(false)
        return
      }
      if (terminal) next = Math.min(next, FINAL_CHECK_MS)
    } catch (e) {
      if (this.stopped) return
      this.deps.onError(e instanceof Error ? e : new Error(String(e)))
    } finally {
      this.running = false
    }
    if (this.again) next = 0
    if (!this.stopped) this.timer = this.deps.setTimer(() => void this.tick(), next)
  }
}

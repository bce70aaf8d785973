import { describe, expect, it } from 'vitest'
import type { LogLine, LogPage, Operation, OperationStatus } from '../api/types'
import { FINAL_CHECK_MS, LOG_PAGE, OperationPoller } from './poller'

const line = (seq: number): LogLine => ({ seq, at: '2026-11-27T12:00:00Z', level: 'info', message: `line ${seq}` })
const op = (status: OperationStatus) => ({ id: 'op1', status }) as Operation

/** A fake server whose log grows, and fake timers run by hand. */
function setup(interval = 10_000) {
  const server = { status: 'running' as OperationStatus, lines: [] as LogLine[], fail: false }
  const calls: string[] = []
  const polls: boolean[] = []
  const timers: { fn: () => void; ms: number }[] = []
  const seen: LogLine[] = []
  const live: boolean[] = []
  const errors: (Error | undefined)[] = []
  const poller = new OperationPoller(
    {
      fetchOperation: async (poll) => {
        calls.push('op')
        polls.push(poll)
        if (server.fail) throw new Error('network down')
        return op(server.status)
      },
      fetchLogs: async (after, limit): Promise<LogPage> => {
        calls.push(`logs after=${after}`)
        const lines = server.lines.filter((l) => l.seq > after).slice(0, limit)
        return { lines, last_seq: lines.length ? lines[lines.length - 1].seq : after }
      },
      onOperation: () => {},
      onLines: (l) => seen.push(...l),
      onLive: (v) => live.push(v),
      onError: (e) => errors.push(e),
      setTimer: (fn, ms) => {
        const t = { fn, ms }
        timers.push(t)
        return t
      },
      clearTimer: (t) => {
        const i = timers.indexOf(t as never)
        if (i >= 0) timers.splice(i, 1)
      },
    },
    interval,
  )
  const runTimer = async () => {
    const t = timers.shift()
    if (!t) throw new Error('no timer pending')
    t.fn()
    await flush()
    return t.ms
  }
  return { server, calls, polls, timers, seen, live, errors, poller, runTimer }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('OperationPoller', () => {
  it('asks only for lines after the last one it has', async () => {
    const s = setup()
    s.server.lines = [line(1), line(2)]
    s.poller.start()
    await flush()
    expect(s.seen.map((l) => l.seq)).toEqual([1, 2])
    s.server.lines.push(line(3))
    expect(await s.runTimer()).toBe(10_000)
    expect(s.calls).toEqual(['op', 'logs after=0', 'op', 'logs after=2'])
    expect(s.seen.map((l) => l.seq)).toEqual([1, 2, 3])
  })

  it('pages through a long log at once', async () => {
    const s = setup()
    s.server.lines = Array.from({ length: LOG_PAGE * 2 + 5 }, (_, i) => line(i + 1))
    s.poller.start()
    await flush()
    expect(s.calls).toEqual(['op', 'logs after=0', `logs after=${LOG_PAGE}`, `logs after=${LOG_PAGE * 2}`])
    expect(s.seen).toHaveLength(LOG_PAGE * 2 + 5)
  })

  it('keeps polling while running, even without new lines', async () => {
    const s = setup()
    s.poller.start()
    await flush()
    await s.runTimer()
    await s.runTimer()
    expect(s.timers).toHaveLength(1)
    expect(s.live).toEqual([])
  })

  it('stops once terminal and a poll brought nothing new', async () => {
    const s = setup()
    s.server.lines = [line(1)]
    s.poller.start()
    await flush()
    s.server.status = 'completed'
    s.server.lines.push(line(2))
    // the poll that sees the end still brings lines: one quick last check
    expect(await s.runTimer()).toBe(10_000)
    expect(s.timers[0].ms).toBe(FINAL_CHECK_MS)
    await s.runTimer()
    expect(s.live).toEqual([false])
    expect(s.timers).toHaveLength(0)
    expect(s.seen.map((l) => l.seq)).toEqual([1, 2])
  })

  it('reports errors and retries at the interval', async () => {
    const s = setup()
    s.server.fail = true
    s.poller.start()
    await flush()
    expect(s.errors.at(-1)?.message).toBe('network down')
    s.server.fail = false
    await s.runTimer()
    expect(s.errors.at(-1)).toBeUndefined()
  })

  it('polls at once on refresh and restarts a finished loop', async () => {
    const s = setup()
    s.server.status = 'paused'
    s.poller.start()
    await flush()
    s.poller.refresh()
    await flush()
    expect(s.calls.filter((c) => c === 'op')).toHaveLength(2)
    expect(s.timers).toHaveLength(1)
  })

  it('marks every fetch after the first as a poll (not user activity)', async () => {
    const s = setup()
    s.poller.start()
    await flush()
    await s.runTimer()
    s.poller.refresh()
    await flush()
    expect(s.polls).toEqual([false, true, true])
  })

  it('does nothing after stop', async () => {
    const s = setup()
    s.poller.start()
    await flush()
    s.poller.stop()
    expect(s.timers).toHaveLength(0)
    s.poller.refresh()
    await flush()
    expect(s.calls).toEqual(['op', 'logs after=0'])
  })
})

// Polls an operation and its log: the operation for status and progress,
// the log for lines after the last one held. Stops once the operation is
// terminal and a fetch after that brought nothing new.
import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import { TERMINAL_STATUSES, type Operation } from '../api/types'
import { appendLines, emptyBuffer, morePending, pollFinished, type LogBuffer } from './terminal'

export const LOG_PAGE = 1000
/** After the end is seen, the last check comes sooner than a full interval. */
const FINAL_CHECK_MS = 1500

export function useOperationPoll(id: string, pollSeconds: number) {
  const [op, setOp] = useState<Operation>()
  const [buffer, setBuffer] = useState<LogBuffer>(emptyBuffer)
  const [live, setLive] = useState(true)
  const [error, setError] = useState<Error>()
  const lastSeq = useRef(0)
  const timer = useRef<number>(undefined)
  const running = useRef(false)
  const again = useRef(false)
  const stopped = useRef(false)
  const tickRef = useRef<() => Promise<void>>(async () => {})

  const tick = useCallback(async () => {
    if (stopped.current) return
    if (running.current) {
      again.current = true
      return
    }
    running.current = true
    again.current = false
    window.clearTimeout(timer.current)
    let next = pollSeconds * 1000
    try {
      const o = await api.operation(id)
      if (stopped.current) return
      setOp(o)
      setError(undefined)
      let newLines = 0
      for (;;) {
        const page = await api.logs(id, lastSeq.current, LOG_PAGE)
        if (stopped.current) return
        const lines = page?.lines ?? []
        if (lines.length) {
          lastSeq.current = Math.max(lastSeq.current, ...lines.map((l) => l.seq))
          setBuffer((b) => appendLines(b, lines))
        }
        newLines += lines.length
        if (!morePending(lines.length, LOG_PAGE)) break
      }
      const terminal = TERMINAL_STATUSES.has(o.status)
      if (pollFinished(terminal, newLines) && !again.current) {
        setLive(false)
        return
      }
      if (terminal) next = Math.min(next, FINAL_CHECK_MS)
    } catch (e) {
      if (stopped.current) return
      setError(e instanceof Error ? e : new Error(String(e)))
    } finally {
      running.current = false
    }
    if (again.current) next = 0
    if (!stopped.current) timer.current = window.setTimeout(() => void tickRef.current(), next)
  }, [id, pollSeconds])

  useEffect(() => {
    tickRef.current = tick
  }, [tick])

  useEffect(() => {
    stopped.current = false
    void tick()
    return () => {
      stopped.current = true
      window.clearTimeout(timer.current)
    }
  }, [tick])

  /** Poll now (after pause/resume/cancel); restarts polling if it had stopped. */
  const refresh = useCallback(() => {
    setLive(true)
    void tickRef.current()
  }, [])

  return { op, setOp, buffer, live, error, refresh, loading: !op && !error }
}

// React glue for OperationPoller: the operation, its log buffer, and whether
// the page is still live.
import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import type { Operation } from '../api/types'
import { OperationPoller } from './poller'
import { appendLines, emptyBuffer, type LogBuffer } from './terminal'

export function useOperationPoll(id: string, pollSeconds: number) {
  const [op, setOp] = useState<Operation>()
  const [buffer, setBuffer] = useState<LogBuffer>(emptyBuffer)
  const [live, setLive] = useState(true)
  const [error, setError] = useState<Error>()
  const poller = useRef<OperationPoller>(null)

  useEffect(() => {
    const p = new OperationPoller(
      {
        fetchOperation: (poll) => api.operation(id, poll),
        fetchLogs: (after, limit, poll) => api.logs(id, after, limit, poll),
        onOperation: setOp,
        onLines: (lines) => setBuffer((b) => appendLines(b, lines)),
        onLive: setLive,
        onError: setError,
        setTimer: (fn, ms) => window.setTimeout(fn, ms),
        clearTimer: (t) => window.clearTimeout(t as number),
      },
      pollSeconds * 1000,
    )
    poller.current = p
    p.start()
    return () => p.stop()
  }, [id, pollSeconds])

  const refresh = useCallback(() => poller.current?.refresh(), [])

  return { op, setOp, buffer, live, error, refresh, loading: !op && !error }
}

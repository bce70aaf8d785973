import { useCallback, useEffect, useRef, useState } from 'react'

export interface AsyncState<T> {
  data: T | undefined
  error: Error | undefined
  loading: boolean
  reload: () => Promise<void>
  setData: (fn: (d: T | undefined) => T | undefined) => void
}

/** Loads data when deps change; keeps the previous data while reloading. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [data, setDataState] = useState<T>()
  const [error, setError] = useState<Error>()
  const [loading, setLoading] = useState(true)
  const gen = useRef(0)
  const fnRef = useRef(fn)
  fnRef.current = fn

  const reload = useCallback(async () => {
    const my = ++gen.current
    setLoading(true)
    try {
      const d = await fnRef.current()
      if (my !== gen.current) return
      setDataState(d)
      setError(undefined)
    } catch (e) {
      if (my !== gen.current) return
      setError(e instanceof Error ? e : new Error(String(e)))
    } finally {
      if (my === gen.current) setLoading(false)
    }
  }, [])

  useEffect(() => {
    void reload()
    return () => {
      gen.current++
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps)

  const setData = useCallback((f: (d: T | undefined) => T | undefined) => setDataState((d) => f(d)), [])
  return { data, error, loading, reload, setData }
}

/** Re-renders every `ms` so relative times ("3 min ago") stay true. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now)
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms)
    return () => window.clearInterval(t)
  }, [ms])
  return now
}

// The signed-in user and the server's settings for this session.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { api } from './api/client'
import type { Session, User } from './api/types'

export const DEFAULT_POLL_SECONDS = 10

interface SessionValue {
  loading: boolean
  /** The session could not be loaded (server down). */
  error: string
  session: Session | null
  user: User | null
  pollSeconds: number
  refresh: () => Promise<Session | null>
  setUser: (u: User | null) => void
}

const SessionContext = createContext<SessionValue | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState('')

  const refresh = useCallback(async () => {
    try {
      const s = await api.session()
      api.csrfToken = s.csrf_token ?? ''
      setSession(s)
      setError('')
      return s
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
      return null
    } finally {
      setLoading(false)
    }
  }, [])

  useEffect(() => {
    void refresh()
  }, [refresh])

  const setUser = useCallback((u: User | null) => {
    setSession((s) => (s ? { ...s, authenticated: Boolean(u), user: u } : s))
  }, [])

  const value = useMemo<SessionValue>(() => {
    const poll = session?.poll_interval_seconds
    return {
      loading,
      error,
      session,
      user: session?.authenticated ? (session.user ?? null) : null,
      pollSeconds: poll && poll > 0 ? poll : DEFAULT_POLL_SECONDS,
      refresh,
      setUser,
    }
  }, [loading, error, session, refresh, setUser])

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export function useSession(): SessionValue {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside SessionProvider')
  return s
}

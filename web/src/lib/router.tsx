// A small router over the History API: enough for this app's flat route
// table, without a dependency.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react'
import { matchPath } from './match'

export { matchPath }

interface Location {
  pathname: string
  search: string
}

interface RouterValue extends Location {
  navigate: (to: string, opts?: { replace?: boolean }) => void
}

const RouterContext = createContext<RouterValue | null>(null)

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search }
}

let navigateRef: RouterValue['navigate'] = (to) => window.location.assign(to)

/** Navigation from outside React (the API client's 401 handler). */
export function navigateTo(to: string, opts?: { replace?: boolean }) {
  navigateRef(to, opts)
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState<Location>(current)

  useEffect(() => {
    const onPop = () => setLoc(current())
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  const navigate = useCallback((to: string, opts?: { replace?: boolean }) => {
    const url = new URL(to, window.location.href)
    if (url.origin !== window.location.origin) {
      window.location.assign(to)
      return
    }
    const next = url.pathname + url.search + url.hash
    if (next === window.location.pathname + window.location.search + window.location.hash) {
      setLoc(current())
      return
    }
    if (opts?.replace) window.history.replaceState(null, '', next)
    else window.history.pushState(null, '', next)
    setLoc(current())
    if (!opts?.replace && url.pathname !== loc.pathname) window.scrollTo(0, 0)
  }, [loc.pathname])

  useEffect(() => {
    navigateRef = navigate
  }, [navigate])

  const value = useMemo(() => ({ ...loc, navigate }), [loc, navigate])
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>
}

function useRouter(): RouterValue {
  const r = useContext(RouterContext)
  if (!r) throw new Error('useRouter outside RouterProvider')
  return r
}

export function useLocation(): Location {
  const { pathname, search } = useRouter()
  return { pathname, search }
}

export function useNavigate() {
  return useRouter().navigate
}

export function useSearchParams(): [URLSearchParams, (qs: string, opts?: { replace?: boolean }) => void] {
  const { search, pathname, navigate } = useRouter()
  const params = useMemo(() => new URLSearchParams(search), [search])
  const set = useCallback(
    (qs: string, opts?: { replace?: boolean }) => navigate(pathname + (qs && !qs.startsWith('?') ? `?${qs}` : qs), opts),
    [navigate, pathname],
  )
  return [params, set]
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean }

export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const navigate = useNavigate()
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    if (rest.target && rest.target !== '_self') return
    e.preventDefault()
    navigate(to, { replace })
  }
  return <a href={to} onClick={handle} {...rest} />
}

export interface RouteDef {
  path: string
  render: (params: Record<string, string>) => ReactNode
}

/** Renders the first route whose pattern matches the path. */
export function Routes({ routes, fallback }: { routes: RouteDef[]; fallback: ReactNode }) {
  const { pathname } = useLocation()
  for (const r of routes) {
    const params = matchPath(r.path, pathname)
    if (params) return <>{r.render(params)}</>
  }
  return <>{fallback}</>
}

/** Matches "/operations/:id/restore" against a path; params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const clean = (p: string) => p.replace(/\/+$/, '') || '/'
  const pp = clean(pattern).split('/')
  const ps = clean(path).split('/')
  if (pp.length !== ps.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < pp.length; i++) {
    if (pp[i].startsWith(':')) {
      if (!ps[i]) return null
      try {
        params[pp[i].slice(1)] = decodeURIComponent(ps[i])
      } catch {
        return null
      }
    } else if (pp[i] !== ps[i]) {
      return null
    }
  }
  return params
}

// The one place that knows the API's routes. Every request goes through
// ApiClient.request: same-origin credentials, the CSRF header on state
// changes, errors turned into ApiError, and a 401 handed to onUnauthorized
// (which sends the browser to /login).
import type {
  ApiErrorBody,
  AuditEvent,
  Connection,
  ConnectionInput,
  KindSpec,
  LogPage,
  Manifest,
  Operation,
  OperationAction,
  OperationFilters,
  OperationPage,
  Page,
  Preflight,
  RestoreRequest,
  Role,
  Session,
  User,
} from './types'

export const CSRF_COOKIE = 'backupd_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'
/** Marks requests the UI makes by itself (polling): they do not count as
 * activity, so an idle tab still reaches the session's idle timeout. */
export const POLL_HEADER = 'X-Backupd-Poll'

/** An error answer of the API, or a network failure (status 0). */
export class ApiError extends Error implements ApiErrorBody {
  readonly status: number
  readonly code: string
  readonly field?: string

  constructor(status: number, body: ApiErrorBody) {
    super(body.message)
    this.name = 'ApiError'
    this.status = status
    this.code = body.code
    this.field = body.field
  }

  toJSON(): ApiErrorBody {
    return { code: this.code, message: this.message, field: this.field }
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

/** Reads one cookie's value from a document.cookie string. */
export function readCookie(cookies: string, name: string): string {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim()
      try {
        return decodeURIComponent(raw)
      } catch {
        return raw
      }
    }
  }
  return ''
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | undefined | null>
  /** Public endpoints (login, reset) answer 401 for bad credentials: do not
   * treat that as a lost session. */
  public?: boolean
  /** Sent by a timer, not by the user (see POLL_HEADER). */
  poll?: boolean
  signal?: AbortSignal
}

export interface ClientDeps {
  fetch: typeof fetch
  cookies: () => string
  onUnauthorized: (code: string) => void
}

export function buildQuery(query: RequestOptions['query']): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.set(k, String(v))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/** Where a 401 sends the browser. */
export function loginRedirect(code: string, currentPath: string): string {
  if (code === 'session-expired') return '/login?expired=1'
  const next = currentPath && currentPath !== '/' && !currentPath.startsWith('/login') ? `?next=${encodeURIComponent(currentPath)}` : ''
  return `/login${next}`
}

/**
 * Where a 401 answer sends the browser, or null to stay. A page sends
 * several requests at once: with an idle session the first answer says
 * session-expired (and ends the session), the others only unauthenticated.
 * Once on the login page, a plain unauthenticated answer must not wipe the
 * "session expired" message; a session-expired one always shows it.
 */
export function unauthorizedTarget(code: string, pathname: string, search: string): string | null {
  if (pathname === '/login' && code !== 'session-expired') return null
  return loginRedirect(code, pathname + search)
}

export class ApiClient {
  private deps: ClientDeps
  /** Fallback when the cookie is not readable (the session answer carries it). */
  csrfToken = ''

  constructor(deps: ClientDeps) {
    this.deps = deps
  }

  setUnauthorizedHandler(fn: (code: string) => void) {
    this.deps = { ...this.deps, onUnauthorized: fn }
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const method = (opts.method ?? 'GET').toUpperCase()
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (opts.poll) headers[POLL_HEADER] = '1'
    if (STATE_CHANGING.has(method)) {
      const token = readCookie(this.deps.cookies(), CSRF_COOKIE) || this.csrfToken
      if (token) headers[CSRF_HEADER] = token
    }
    let body: string | undefined
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(opts.body)
    }
    let res: Response
    try {
      res = await this.deps.fetch(path + buildQuery(opts.query), {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: opts.signal,
      })
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e
      throw new ApiError(0, { code: 'network', message: 'The server could not be reached. Check your connection and try again.' })
    }
    const text = await res.text()
    let data: unknown = undefined
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = undefined
      }
    }
    if (res.ok) return data as T
    const err = errorFrom(res.status, data)
    if (res.status === 401 && !opts.public) this.deps.onUnauthorized(err.code)
    throw err
  }

  // --- auth ---
  session = () => this.request<Session>('/api/session', { public: true })
  login = (email: string, password: string) =>
    this.request<{ user: User }>('/api/login', { method: 'POST', body: { email, password }, public: true })
  logout = () => this.request<void>('/api/logout', { method: 'POST', public: true })
  forgotPassword = (email: string) =>
    this.request<{ message: string }>('/api/password/forgot', { method: 'POST', body: { email }, public: true })
  resetPassword = (token: string, password: string, password_confirmation: string) =>
    this.request<unknown>('/api/password/reset', {
      method: 'POST',
      body: { token, password, password_confirmation },
      public: true,
    })
  changePassword = (current_password: string, password: string, password_confirmation: string) =>
    this.request<unknown>('/api/password/change', {
      method: 'POST',
      body: { current_password, password, password_confirmation },
    })

  // --- connections ---
  connectionKinds = () => this.request<KindSpec[]>('/api/connection-kinds')
  connections = (role?: Role) =>
    this.request<{ items: Connection[] }>('/api/connections', { query: { role } }).then((r) => r.items ?? [])
  connection = (id: string) => this.request<Connection>(`/api/connections/${enc(id)}`)
  createConnection = (input: ConnectionInput) => this.request<Connection>('/api/connections', { method: 'POST', body: input })
  updateConnection = (id: string, input: ConnectionInput) =>
    this.request<Connection>(`/api/connections/${enc(id)}`, { method: 'PUT', body: input })
  checkConnection = (id: string) => this.request<Connection>(`/api/connections/${enc(id)}/check`, { method: 'POST' })
  deleteConnection = (id: string) => this.request<void>(`/api/connections/${enc(id)}`, { method: 'DELETE' })
  authorizeDrive = (body: { name: string; folder_name: string; connection_id?: string }) =>
    this.request<{ authorize_url: string }>('/api/connections/gdrive/authorize', { method: 'POST', body })

  // --- operations ---
  startBackup = (source_id: string, destination_id: string) =>
    this.request<{ id: string }>('/api/backups', { method: 'POST', body: { source_id, destination_id } })
  operations = (f: Partial<OperationFilters>, poll = false) =>
    this.request<OperationPage>('/api/operations', {
      poll,
      query: {
        status: f.status,
        kind: f.kind,
        source_id: f.source_id,
        from: f.from,
        to: f.to,
        page: f.page,
        per_page: f.per_page,
      },
    })
  operation = (id: string, poll = false) => this.request<Operation>(`/api/operations/${enc(id)}`, { poll })
  logs = (id: string, after: number, limit = 1000, poll = false) =>
    this.request<LogPage>(`/api/operations/${enc(id)}/logs`, { query: { after, limit }, poll })
  act = (id: string, action: OperationAction) =>
    this.request<Operation>(`/api/operations/${enc(id)}/${action}`, { method: 'POST' })
  // The first 100 entries are all the wizard shows; a manifest may list millions.
  manifest = (id: string) => this.request<Manifest>(`/api/operations/${enc(id)}/manifest?entries=100`)
  preflight = (id: string, req: RestoreRequest) =>
    this.request<Preflight>(`/api/operations/${enc(id)}/restore/preflight`, { method: 'POST', body: req })
  restore = (id: string, req: RestoreRequest) =>
    this.request<{ id: string }>(`/api/operations/${enc(id)}/restore`, { method: 'POST', body: req })

  // --- audit ---
  audit = (q: { page?: number; per_page?: number; stream?: string; actor?: string }) =>
    this.request<Page<AuditEvent>>('/api/audit', { query: q })
}

function enc(id: string) {
  return encodeURIComponent(id)
}

/** Builds an ApiError from any error answer, even one that is not JSON. */
export function errorFrom(status: number, data: unknown): ApiError {
  const body = (data as { error?: Partial<ApiErrorBody> } | undefined)?.error
  if (body && typeof body.message === 'string') {
    return new ApiError(status, { code: body.code || `http-${status}`, message: body.message, field: body.field || undefined })
  }
  return new ApiError(status, { code: `http-${status}`, message: defaultMessage(status) })
}

function defaultMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Please log in.'
    case 403:
      return 'You are not allowed to do that. Reload the page and try again.'
    case 404:
      return 'Not found.'
    case 429:
      return 'Too many attempts. Wait a little and try again.'
    default:
      return status >= 500 ? 'The server ran into an error. Try again in a moment.' : `The request failed (HTTP ${status}).`
  }
}

/** The client the app uses. */
export const api = new ApiClient({
  fetch: (...args) => window.fetch(...args),
  cookies: () => (typeof document === 'undefined' ? '' : document.cookie),
  onUnauthorized: (code) => {
    window.location.assign(loginRedirect(code, window.location.pathname + window.location.search))
  },
})

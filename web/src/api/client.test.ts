import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, buildQuery, errorFrom, loginRedirect, readCookie, unauthorizedTarget } from './client'

interface Call {
  url: string
  init: RequestInit
}

function fakeServer(status: number, body: unknown, cookies = 'backupd_csrf=tok%2Fen; other=1') {
  const calls: Call[] = []
  const onUnauthorized = vi.fn()
  const fetchFn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    return new Response(status === 204 ? null : text, { status })
  })
  const client = new ApiClient({ fetch: fetchFn as unknown as typeof fetch, cookies: () => cookies, onUnauthorized })
  return { client, calls, onUnauthorized }
}

function header(c: Call, name: string): string | undefined {
  return (c.init.headers as Record<string, string>)[name]
}

describe('ApiClient.request', () => {
  it('sends the CSRF cookie as a header on state-changing requests', async () => {
    const { client, calls } = fakeServer(201, { id: 'c1' })
    await client.createConnection({ kind: 's3_source', name: 'n', settings: {}, secrets: {} })
    expect(calls[0].init.method).toBe('POST')
    expect(header(calls[0], 'X-CSRF-Token')).toBe('tok/en')
    expect(calls[0].init.credentials).toBe('same-origin')
    expect(header(calls[0], 'Content-Type')).toBe('application/json')
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ kind: 's3_source', name: 'n', settings: {}, secrets: {} })
  })

  it.each(['PUT', 'DELETE'])('sends the CSRF header on %s', async (method) => {
    const { client, calls } = fakeServer(200, {})
    await client.request('/api/x', { method })
    expect(header(calls[0], 'X-CSRF-Token')).toBe('tok/en')
  })

  it('marks polling requests so they do not count as activity', async () => {
    const { client, calls } = fakeServer(200, { lines: [], last_seq: 0 })
    await client.logs('op1', 5, 1000, true)
    await client.operation('op1')
    expect(header(calls[0], 'X-Backupd-Poll')).toBe('1')
    expect(header(calls[1], 'X-Backupd-Poll')).toBeUndefined()
  })

  it('does not send the CSRF header on GET', async () => {
    const { client, calls } = fakeServer(200, { items: [] })
    await client.connections('source')
    expect(header(calls[0], 'X-CSRF-Token')).toBeUndefined()
    expect(calls[0].url).toBe('/api/connections?role=source')
    expect(calls[0].init.credentials).toBe('same-origin')
  })

  it('falls back to the token from the session when the cookie is missing', async () => {
    const { client, calls } = fakeServer(204, undefined, '')
    client.csrfToken = 'from-session'
    await client.logout()
    expect(header(calls[0], 'X-CSRF-Token')).toBe('from-session')
  })

  it('turns an error answer into an ApiError with code, message and field', async () => {
    const { client } = fakeServer(422, { error: { code: 'bucket-missing', message: 'The bucket does not exist', field: 'bucket' } })
    const err = await client.createConnection({ kind: 's3_source', name: 'n', settings: {}, secrets: {} }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.toJSON()).toEqual({ code: 'bucket-missing', message: 'The bucket does not exist', field: 'bucket' })
    expect(err.status).toBe(422)
  })

  it('gives a plain message for a non-JSON error', async () => {
    const { client } = fakeServer(502, '<html>bad gateway</html>')
    const err = await client.connectionKinds().catch((e) => e)
    expect(err.code).toBe('http-502')
    expect(err.message).toMatch(/server ran into an error/)
  })

  it('reports a network failure as status 0', async () => {
    const client = new ApiClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch')
      }) as unknown as typeof fetch,
      cookies: () => '',
      onUnauthorized: () => {},
    })
    const err = await client.session().catch((e) => e)
    expect(err.status).toBe(0)
    expect(err.code).toBe('network')
  })

  it('hands a 401 to onUnauthorized with the code', async () => {
    const { client, onUnauthorized } = fakeServer(401, { error: { code: 'session-expired', message: 'expired' } })
    await expect(client.operation('o1')).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledWith('session-expired')
  })

  it('does not treat a failed login as a lost session', async () => {
    const { client, onUnauthorized } = fakeServer(401, { error: { code: 'invalid-credentials', message: 'Wrong e-mail or password' } })
    const err = await client.login('a@b.c', 'x').catch((e) => e)
    expect(err.code).toBe('invalid-credentials')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('answers 204 with undefined', async () => {
    const { client } = fakeServer(204, undefined)
    await expect(client.deleteConnection('c1')).resolves.toBeUndefined()
  })

  it('builds the routes of the contract', async () => {
    const { client, calls } = fakeServer(200, { lines: [], last_seq: 0 })
    await client.logs('op 1', 42)
    await client.act('op1', 'pause')
    await client.operations({ status: 'failed', source_id: 's1', page: 2, per_page: 25, from: '', kind: '' })
    await client.preflight('op1', { target: { connection_id: 'c1' }, conflict: 'skip', overwrite_original: false })
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET /api/operations/op%201/logs?after=42&limit=1000',
      'POST /api/operations/op1/pause',
      'GET /api/operations?status=failed&source_id=s1&page=2&per_page=25',
      'POST /api/operations/op1/restore/preflight',
    ])
  })
})

describe('helpers', () => {
  it('reads a cookie among others', () => {
    expect(readCookie('a=1; backupd_csrf=xyz; b=2', 'backupd_csrf')).toBe('xyz')
    expect(readCookie('xbackupd_csrf=no', 'backupd_csrf')).toBe('')
    expect(readCookie('', 'backupd_csrf')).toBe('')
  })
  it('builds a query without empty values', () => {
    expect(buildQuery({ a: '', b: undefined, c: null, d: 0, e: 'x y' })).toBe('?d=0&e=x+y')
    expect(buildQuery({})).toBe('')
  })
  it('sends an expired session to /login?expired=1', () => {
    expect(loginRedirect('session-expired', '/operations/1')).toBe('/login?expired=1')
  })
  it('keeps where the user was for an ordinary 401', () => {
    expect(loginRedirect('unauthenticated', '/operations?status=failed')).toBe('/login?next=%2Foperations%3Fstatus%3Dfailed')
    expect(loginRedirect('unauthenticated', '/')).toBe('/login')
    expect(loginRedirect('unauthenticated', '/login?next=x')).toBe('/login')
  })
  it('keeps an unknown error body readable', () => {
    expect(errorFrom(409, { error: { message: 'in use' } }).code).toBe('http-409')
  })
})

describe('unauthorizedTarget', () => {
  it('sends an expired session to the login page with the message', () => {
    expect(unauthorizedTarget('session-expired', '/operations/1', '')).toBe('/login?expired=1')
  })
  it('keeps the message when a second request answers unauthenticated', () => {
    expect(unauthorizedTarget('unauthenticated', '/login', '?expired=1')).toBeNull()
  })
  it('upgrades to the message when the expired answer comes second', () => {
    expect(unauthorizedTarget('session-expired', '/login', '')).toBe('/login?expired=1')
  })
  it('remembers where an unauthenticated visitor was going', () => {
    expect(unauthorizedTarget('unauthenticated', '/history', '?status=failed')).toBe('/login?next=%2Fhistory%3Fstatus%3Dfailed')
  })
})

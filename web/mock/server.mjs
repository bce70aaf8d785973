// A small stand-in for the backupd API (httpapi/API.md), for developing and
// looking at the UI without the Go service. Not shipped in dist.
//
//   node mock/server.mjs                 # API on 127.0.0.1:8787 (npm run dev proxies to it)
//   node mock/server.mjs --serve-dist    # also serves web/dist like the real binary
//
// Env: PORT, MOCK_AUTOLOGIN=1 (every request is signed in), MOCK_IDLE=seconds,
// MOCK_POLL=seconds (poll_interval_seconds), MOCK_SPEED (progress multiplier).
// Log in as admin@example.com / password.
import { createServer } from 'node:http'
import { randomUUID, createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kindSpecs, resultFor, seed } from './data.mjs'

const PORT = Number(process.env.PORT || 8787)
const AUTOLOGIN = process.env.MOCK_AUTOLOGIN === '1'
const IDLE = Number(process.env.MOCK_IDLE || 1800)
const POLL = Number(process.env.MOCK_POLL || 10)
const SPEED = Number(process.env.MOCK_SPEED || 1)
const SERVE_DIST = process.argv.includes('--serve-dist')
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')

const user = { id: randomUUID(), email: 'admin@example.com', name: 'Ada Admin', role: 'admin', last_login_at: new Date(Date.now() - 86400e3).toISOString() }
let password = 'password'
const sessions = new Map() // id -> {last}
const state = seed()
const audit = state.audit

function record(type, stream, summary, actor = user.email) {
  audit.unshift({ id: randomUUID(), type, stream, actor_id: actor === user.email ? user.id : '', actor_name: actor, at: new Date().toISOString(), summary })
}

// ---------- HTTP helpers ----------
function cookies(req) {
  const out = {}
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim())
  }
  return out
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(text)
}

const fail = (res, status, code, message, field) => send(res, status, { error: field ? { code, message, field } : { code, message } })

async function readBody(req) {
  let data = ''
  for await (const chunk of req) data += chunk
  if (!data) return {}
  try {
    return JSON.parse(data)
  } catch {
    return null
  }
}

function page(items, q) {
  const per = Math.min(100, Math.max(1, Number(q.get('per_page')) || 25))
  const p = Math.max(1, Number(q.get('page')) || 1)
  return { items: items.slice((p - 1) * per, p * per), page: p, per_page: per, total: items.length }
}

// ---------- sessions ----------
function sessionOf(req, res) {
  const c = cookies(req)
  if (AUTOLOGIN) return { ok: true }
  const s = c.backupd_session && sessions.get(c.backupd_session)
  if (!s) return { ok: false, code: 'unauthenticated' }
  if (Date.now() - s.last > IDLE * 1000) {
    sessions.delete(c.backupd_session)
    res.setHeader('Set-Cookie', 'backupd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax')
    return { ok: false, code: 'session-expired' }
  }
  s.last = Date.now()
  return { ok: true }
}

function ensureCsrf(req, res) {
  const c = cookies(req)
  if (c.backupd_csrf) return c.backupd_csrf
  const t = randomUUID().replace(/-/g, '')
  res.setHeader('Set-Cookie', `backupd_csrf=${t}; Path=/; SameSite=Lax`)
  return t
}

// ---------- connections ----------
function publicConn(c) {
  const { secrets, ...rest } = c
  const secrets_set = {}
  for (const [k, v] of Object.entries(secrets)) secrets_set[k] = Boolean(v)
  const active = state.ops.filter((o) => (o.source.id === c.id || o.destination.id === c.id) && ['pending', 'running', 'paused', 'interrupted'].includes(o.status)).length
  return { ...rest, secrets_set, active_operations: active }
}

/** The "check": a value containing "bad" fails on its field, like a real service would. */
function check(kind, settings, secrets) {
  const spec = kindSpecs.find((k) => k.kind === kind)
  for (const f of spec.fields) {
    if (f.managed) continue
    const v = f.type === 'secret' ? secrets[f.name] : settings[f.name]
    if (f.required && !v) return { field: f.name, message: `${f.label} is required` }
  }
  if (spec.service === 's3') {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(settings.bucket || '')) return { field: 'bucket', message: 'a bucket name has 3 to 63 lowercase letters, digits, dots and hyphens' }
    if ((secrets.secret_access_key || '').includes('bad')) return { field: 'secret_access_key', message: 'SignatureDoesNotMatch: the secret access key is wrong' }
    if ((settings.bucket || '').includes('missing')) return { field: 'bucket', message: `NoSuchBucket: the bucket ${settings.bucket} does not exist` }
    if ((settings.endpoint || '').includes('down')) return { field: 'endpoint', message: 'the endpoint did not answer within 5 seconds (connection refused)' }
  }
  if (spec.service === 'mongodb') {
    if ((secrets.uri || '').includes('bad') || (secrets.password || '').includes('bad')) return { field: secrets.password ? 'password' : 'uri', message: 'Authentication failed.' }
  }
  return null
}

// ---------- operations ----------
function summary(o) {
  const { logs, internal, ...rest } = o
  return rest
}

function log(o, level, message) {
  o.internal.seq += 1
  const origin = /^(operation |paused|worker |resume requested|cancel requested|pause requested|backup requested|restore requested)/.test(message) ? 'status' : 'executor'
  o.logs.push({ seq: o.internal.seq, at: new Date().toISOString(), level, message, origin })
}

function allowed(o) {
  switch (o.status) {
    case 'pending':
      return ['pause', 'cancel']
    case 'running':
      return o.pause_requested || o.cancel_requested ? ['cancel'] : ['pause', 'cancel']
    case 'paused':
    case 'interrupted':
      return ['resume', 'cancel']
    case 'completed':
      return o.kind === 'backup' ? ['restore'] : []
    default:
      return []
  }
}

function full(o) {
  return { ...summary(o), allowed_actions: allowed(o) }
}

function newOperation(kind, source, destination, extra = {}) {
  const now = new Date().toISOString()
  const o = {
    id: randomUUID(),
    kind,
    status: 'pending',
    source: { id: source.id, name: source.name, kind: source.kind },
    destination: { id: destination.id, name: destination.name, kind: destination.kind },
    requested_at: now,
    started_at: null,
    finished_at: null,
    archive_size: null,
    requested_by: user.email,
    progress: null,
    pause_requested: false,
    cancel_requested: false,
    attempt: 0,
    logs: [],
    internal: { seq: 0, ticks: 0, total: 180 + Math.floor(Math.random() * 120), bytesEach: 7_340_032, wait: 2 },
    ...extra,
  }
  state.ops.unshift(o)
  log(o, 'info', `${kind} requested by ${user.email}`)
  return o
}

function tick() {
  for (const o of state.ops) {
    const i = o.internal
    if (!i || !i.live) continue
    if (o.status === 'pending') {
      if (--i.wait > 0) continue
      o.status = 'running'
      o.attempt += 1
      o.worker_id = `worker-${1 + (o.attempt % 2)}`
      o.started_at = o.started_at || new Date().toISOString()
      log(o, 'info', `worker ${o.worker_id} claimed the operation (attempt ${o.attempt})`)
      if (o.kind === 'backup') {
        log(o, 'info', `connecting to ${o.source.name}`)
        log(o, 'info', `connecting to ${o.destination.name}`)
        log(o, 'info', o.source.kind === 'mongodb_source' ? 'mongodump --gzip --archive (collection by collection)' : 'listing the bucket page by page (ListObjectsV2, 1000 keys a page)')
        log(o, 'debug', 'started multipart upload; part size 16 MiB')
      } else {
        log(o, 'info', `reading the archive from ${o.destination.name === o.source.name ? 'the destination' : o.source.name}`)
      }
      continue
    }
    if (o.status !== 'running') continue
    o.heartbeat_at = new Date().toISOString()
    if (o.cancel_requested) {
      o.status = 'cancelled'
      o.finished_at = new Date().toISOString()
      log(o, 'warn', 'cancel requested: stopping after the object in flight')
      log(o, 'info', 'aborted the multipart upload; no parts remain at the destination')
      log(o, 'info', 'removed temporary files')
      log(o, 'info', 'operation cancelled')
      i.live = false
      continue
    }
    if (o.pause_requested) {
      o.status = 'paused'
      o.pause_requested = false
      o.paused_position = `after object ${o.progress.objects_done} of ${o.progress.objects_total} (${(o.progress.objects_done * 0.9) | 0} parts durable)`
      log(o, 'warn', `paused at a safe point: ${o.paused_position}`)
      continue
    }
    const step = Math.max(1, Math.round((3 + Math.random() * 4) * SPEED))
    const p = o.progress || { phase: o.kind === 'backup' ? 'archiving' : 'restoring', objects_done: 0, objects_total: i.total, bytes_done: 0, bytes_total: i.total * i.bytesEach, compressed_bytes: 0, uploaded_bytes: 0, bytes_per_second: 0, seconds_left: -1 }
    const before = p.objects_done
    p.objects_done = Math.min(i.total, p.objects_done + step)
    for (let n = before + 1; n <= p.objects_done; n++) {
      const key = o.source.kind === 'mongodb_source' ? `shop.collection_${n}` : `uploads/2026/11/${String(n).padStart(5, '0')}-photo ${n % 7 === 0 ? 'ünïcode' : 'img'}.jpg`
      log(o, n % 37 === 0 ? 'warn' : 'info', n % 37 === 0 ? `${key}: read timed out, retrying (1/5)` : `${o.kind === 'backup' ? 'archived' : 'restored'} ${key} (7 MiB)`)
      if (n % 16 === 0) log(o, 'debug', `uploaded part ${n / 16} (16 MiB, sha256 verified by the server)`)
    }
    p.bytes_done = p.objects_done * i.bytesEach
    p.compressed_bytes = Math.round(p.bytes_done * 0.62)
    p.uploaded_bytes = Math.max(0, p.compressed_bytes - 16 * 1048576)
    p.bytes_per_second = step * i.bytesEach
    p.seconds_left = Math.round((i.total - p.objects_done) / step)
    p.current = `uploads/2026/11/${String(p.objects_done).padStart(5, '0')}-photo.jpg`
    p.updated_at = new Date().toISOString()
    o.progress = p
    if (o.source.name.toLowerCase().includes('legacy') && p.objects_done > i.total / 3) {
      o.status = 'failed'
      o.finished_at = new Date().toISOString()
      o.error = 'reading uploads/2026/11/00061-photo.jpg: AccessDenied: Access Denied'
      o.error_code = 'source-read-failed'
      log(o, 'error', `${o.error}\ngoroutine 81 [running]:\nbackupd/executors/s3.(*Source).Open(0xc0001a2000, {0x1a2b3c0, 0xc000120000}, 0x0)\n\t/src/executors/s3/source.go:142 +0x1f4\nbackupd/executors/archive.(*Writer).add(...)\n\t/src/executors/archive/writer.go:88 +0x9c`)
      log(o, 'info', 'aborted the multipart upload')
      i.live = false
      continue
    }
    if (p.objects_done >= i.total) finish(o)
  }
}

function finish(o) {
  const i = o.internal
  o.status = 'completed'
  o.finished_at = new Date().toISOString()
  o.progress.seconds_left = 0
  o.progress.phase = 'done'
  i.live = false
  if (o.kind === 'backup') {
    const size = o.progress.compressed_bytes
    o.archive_size = size
    const name = `${o.source.name.toLowerCase().replace(/\W+/g, '-')}-${o.finished_at.replace(/[:.]/g, '')}.tar.gz`
    o.result = resultFor(o, name, size, i.total, o.progress.bytes_done)
    log(o, 'info', `archive complete: ${i.total} objects, ${(size / 1048576).toFixed(1)} MiB compressed`)
    log(o, 'info', `manifest written beside the archive: ${o.result.manifest_location}`)
  } else {
    const bad = o.internal.failVerify
    o.report = bad
      ? { verified: false, summary: `2 of ${i.total} objects differ from the manifest`, checked: i.total, restored: i.total - 1, skipped: 0, missing: ['uploads/2026/11/00042-photo img.jpg'], mismatched: [{ key: 'uploads/2026/11/00043-photo img.jpg', reason: 'sha256 differs (read back 9f2c…, manifest 1ab3…)' }] }
      : { verified: true, summary: `all ${i.total} objects present with the same size and SHA-256`, checked: i.total, restored: i.total, skipped: 0 }
    if (bad) {
      o.status = 'failed'
      o.error = 'verification failed: 2 objects differ'
      o.error_code = 'verification-failed'
    }
    log(o, bad ? 'error' : 'info', `verification: ${o.report.summary}`)
  }
  log(o, 'info', `operation ${o.status}`)
}

setInterval(tick, 1000)

// ---------- routes ----------
async function api(req, res, url) {
  const q = url.searchParams
  const path = url.pathname
  const method = req.method
  const csrf = ensureCsrf(req, res)

  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && req.headers['x-csrf-token'] !== cookies(req).backupd_csrf && !AUTOLOGIN) {
    return fail(res, 403, 'csrf', 'The form expired. Reload the page and try again.')
  }

  if (path === '/api/session' && method === 'GET') {
    const s = sessionOf(req, res)
    return send(res, 200, { authenticated: s.ok, user: s.ok ? user : null, idle_timeout_seconds: IDLE, csrf_token: csrf, poll_interval_seconds: POLL, session_expired: s.code === 'session-expired' || undefined })
  }
  if (path === '/api/login' && method === 'POST') {
    const b = await readBody(req)
    if (!b || b.email !== user.email || b.password !== password) {
      record('LoginFailed.v1', `user-${user.id}`, `failed login for ${b?.email ?? '?'}`, 'anonymous')
      return fail(res, 401, 'invalid-credentials', 'The e-mail address or the password is wrong.')
    }
    const id = randomUUID()
    sessions.set(id, { last: Date.now() })
    res.setHeader('Set-Cookie', `backupd_session=${id}; Path=/; HttpOnly; SameSite=Lax`)
    record('UserLoggedIn.v1', `user-${user.id}`, `${user.email} logged in`)
    return send(res, 200, { user })
  }
  if (path === '/api/password/forgot' && method === 'POST') {
    return send(res, 202, { message: 'If that address has an account, a reset link is on its way.' })
  }
  if (path === '/api/password/reset' && method === 'POST') {
    const b = (await readBody(req)) || {}
    if (b.token !== 'good') return fail(res, 422, 'reset-token-invalid', 'This reset link is invalid or has expired. Ask for a new one.')
    if ((b.password || '').length < 8) return fail(res, 422, 'password-too-short', 'Use at least 8 characters.', 'password')
    if (b.password !== b.password_confirmation) return fail(res, 422, 'password-mismatch', 'The two passwords differ.', 'password_confirmation')
    password = b.password
    return send(res, 200, {})
  }

  const s = sessionOf(req, res)
  if (!s.ok) return fail(res, 401, s.code, s.code === 'session-expired' ? 'Your session expired after inactivity.' : 'Please log in.')

  if (path === '/api/logout' && method === 'POST') {
    const c = cookies(req)
    sessions.delete(c.backupd_session)
    res.setHeader('Set-Cookie', 'backupd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax')
    res.writeHead(204)
    return res.end()
  }
  if (path === '/api/password/change' && method === 'POST') {
    const b = (await readBody(req)) || {}
    if (b.current_password !== password) return fail(res, 422, 'current-password-wrong', 'The current password is wrong.', 'current_password')
    if ((b.password || '').length < 8) return fail(res, 422, 'password-too-short', 'Use at least 8 characters.', 'password')
    if (b.password !== b.password_confirmation) return fail(res, 422, 'password-mismatch', 'The two passwords differ.', 'password_confirmation')
    password = b.password
    return send(res, 200, {})
  }
  if (path === '/api/connection-kinds') return send(res, 200, kindSpecs)

  if (path === '/api/connections' && method === 'GET') {
    const role = q.get('role')
    return send(res, 200, { items: state.conns.filter((c) => !role || c.role === role).map(publicConn) })
  }
  if (path === '/api/connections' && method === 'POST') {
    const b = await readBody(req)
    const spec = kindSpecs.find((k) => k.kind === b?.kind)
    if (!spec) return fail(res, 422, 'kind-unknown', 'Unknown connection kind.', 'kind')
    if (!b.name?.trim()) return fail(res, 422, 'field-required', 'Name is required', 'name')
    await new Promise((r) => setTimeout(r, 600))
    const bad = check(b.kind, b.settings || {}, b.secrets || {})
    if (bad) return fail(res, 422, 'check-failed', bad.message, bad.field)
    const now = new Date().toISOString()
    const c = { id: randomUUID(), kind: spec.kind, role: spec.role, service: spec.service, name: b.name.trim(), settings: b.settings || {}, secrets: b.secrets || {}, status: 'valid', status_reason: '', status_field: '', checked_at: now, details: {}, created_at: now, updated_at: now }
    state.conns.push(c)
    record('ConnectionCreated.v1', `connection-${c.id}`, `connection ${c.name} created (${c.kind})`)
    return send(res, 201, publicConn(c))
  }
  if (path === '/api/connections/gdrive/authorize' && method === 'POST') {
    const b = (await readBody(req)) || {}
    if (!b.folder_name?.trim()) return fail(res, 422, 'field-required', 'Folder name is required', 'folder_name')
    if (!b.name?.trim()) return fail(res, 422, 'field-required', 'Name is required', 'name')
    const st = randomUUID()
    state.oauth.set(st, b)
    return send(res, 200, { authorize_url: `/mock-oauth/consent?state=${st}` })
  }
  let m = path.match(/^\/api\/connections\/([^/]+)(\/check)?$/)
  if (m) {
    const c = state.conns.find((x) => x.id === m[1])
    if (!c) return fail(res, 404, 'not-found', 'There is no such connection.')
    if (m[2] && method === 'POST') {
      await new Promise((r) => setTimeout(r, 700))
      const bad = check(c.kind, c.settings, c.secrets) || (c.name.includes('Legacy') ? { field: 'secret_access_key', message: 'InvalidAccessKeyId: the access key id does not exist' } : null)
      c.status = bad ? 'invalid' : 'valid'
      c.status_reason = bad?.message ?? ''
      c.status_field = bad?.field ?? ''
      c.checked_at = new Date().toISOString()
      record('ConnectionValidated.v1', `connection-${c.id}`, `${c.name} checked: ${c.status}`)
      return send(res, 200, publicConn(c))
    }
    if (method === 'GET') return send(res, 200, publicConn(c))
    if (method === 'PUT') {
      const b = (await readBody(req)) || {}
      const secrets = { ...c.secrets }
      for (const [k, v] of Object.entries(b.secrets || {})) if (v) secrets[k] = v
      const settings = { ...c.settings, ...(b.settings || {}) }
      await new Promise((r) => setTimeout(r, 600))
      const bad = check(c.kind, settings, secrets)
      if (bad) return fail(res, 422, 'check-failed', bad.message, bad.field)
      Object.assign(c, { name: b.name || c.name, settings, secrets, status: 'valid', status_reason: '', status_field: '', checked_at: new Date().toISOString(), updated_at: new Date().toISOString() })
      record('ConnectionUpdated.v1', `connection-${c.id}`, `connection ${c.name} updated`)
      return send(res, 200, publicConn(c))
    }
    if (method === 'DELETE') {
      if (publicConn(c).active_operations > 0) return fail(res, 409, 'connection-in-use', `${c.name} has ${publicConn(c).active_operations} active operation(s); wait for them to finish or cancel them first.`)
      state.conns = state.conns.filter((x) => x !== c)
      record('ConnectionDeleted.v1', `connection-${c.id}`, `connection ${c.name} deleted`)
      res.writeHead(204)
      return res.end()
    }
  }

  if (path === '/api/backups' && method === 'POST') {
    const b = (await readBody(req)) || {}
    const src = state.conns.find((c) => c.id === b.source_id && c.role === 'source')
    const dst = state.conns.find((c) => c.id === b.destination_id && c.role === 'destination')
    if (!src) return fail(res, 422, 'source-unknown', 'Choose an existing source.', 'source_id')
    if (!dst) return fail(res, 422, 'destination-unknown', 'Choose an existing destination.', 'destination_id')
    const o = newOperation('backup', src, dst)
    o.internal.live = true
    record('BackupRequested.v1', `operation-${o.id}`, `backup of ${src.name} to ${dst.name} requested`)
    return send(res, 202, { id: o.id })
  }
  if (path === '/api/operations' && method === 'GET') {
    let list = state.ops
    if (q.get('kind')) list = list.filter((o) => o.kind === q.get('kind'))
    if (q.get('source_id')) list = list.filter((o) => o.source.id === q.get('source_id'))
    if (q.get('from')) list = list.filter((o) => o.requested_at >= q.get('from'))
    if (q.get('to')) list = list.filter((o) => o.requested_at.slice(0, 10) <= q.get('to'))
    const totals = { completed: 0, failed: 0, running: 0, pending: 0, paused: 0, interrupted: 0, cancelled: 0 }
    for (const o of list) totals[o.status] += 1
    if (q.get('status')) list = list.filter((o) => o.status === q.get('status'))
    const pg = page(list, q)
    return send(res, 200, { ...pg, items: pg.items.map(summary), totals })
  }
  m = path.match(/^\/api\/operations\/([^/]+)(?:\/(logs|pause|resume|cancel|manifest|restore\/preflight|restore))?$/)
  if (m) {
    const o = state.ops.find((x) => x.id === m[1])
    if (!o) return fail(res, 404, 'not-found', 'There is no such operation.')
    const sub = m[2]
    if (!sub && method === 'GET') return send(res, 200, full(o))
    if (sub === 'logs') {
      const after = Number(q.get('after') || 0)
      const limit = Math.min(1000, Number(q.get('limit') || 1000))
      const lines = o.logs.filter((l) => l.seq > after).slice(0, limit)
      return send(res, 200, { lines, last_seq: lines.length ? lines[lines.length - 1].seq : after })
    }
    if (['pause', 'resume', 'cancel'].includes(sub) && method === 'POST') {
      if (!allowed(o).includes(sub)) return fail(res, 409, 'invalid-transition', `A ${o.status} operation cannot be ${sub === 'pause' ? 'paused' : sub === 'resume' ? 'resumed' : 'cancelled'}.`)
      if (sub === 'pause') {
        if (o.status === 'pending') {
          o.status = 'paused'
          o.paused_position = 'before the first object'
          log(o, 'warn', 'paused before it started')
        } else {
          o.pause_requested = true
          log(o, 'info', 'pause requested: stopping after the part in flight')
        }
      } else if (sub === 'resume') {
        o.status = 'pending'
        o.internal.wait = 2
        o.internal.live = true
        o.paused_position = ''
        log(o, 'info', 'resume requested: continuing from the last checkpoint')
      } else {
        if (o.status === 'paused' || o.status === 'pending' || o.status === 'interrupted') {
          o.status = 'cancelled'
          o.finished_at = new Date().toISOString()
          log(o, 'info', 'cancelled while paused; aborted the multipart upload and removed temporary files')
          o.internal.live = false
        } else {
          o.cancel_requested = true
          log(o, 'info', 'cancel requested')
        }
      }
      record(`Operation${sub[0].toUpperCase()}${sub.slice(1)}Requested.v1`, `operation-${o.id}`, `${sub} requested`)
      return send(res, 202, full(o))
    }
    if (sub === 'manifest') {
      if (o.kind !== 'backup' || !o.result) return fail(res, 404, 'not-found', 'Only a completed backup has a manifest.')
      await new Promise((r) => setTimeout(r, 400))
      return send(res, 200, manifestFor(o))
    }
    if (sub === 'restore/preflight' || sub === 'restore') {
      const b = (await readBody(req)) || {}
      const t = b.target || {}
      let target
      if (t.connection_id) target = state.conns.find((c) => c.id === t.connection_id)
      else if (t.kind) {
        const bad = check(t.kind, t.settings || {}, t.secrets || {})
        if (bad) return fail(res, 422, 'check-failed', bad.message, bad.field)
        target = { id: '', name: t.settings?.bucket || t.settings?.database || 'typed target', kind: t.kind, settings: t.settings }
      }
      if (!target) return fail(res, 422, 'target-unknown', 'Choose a target connection.', 'connection_id')
      const mongo = o.source.kind === 'mongodb_source'
      const same = target.id === o.source.id && (mongo ? !b.database || b.database === 'shop' : !b.prefix)
      if (sub === 'restore/preflight') {
        await new Promise((r) => setTimeout(r, 900))
        return send(res, 200, {
          writable: !(target.settings?.bucket || '').includes('readonly'),
          writable_reason: (target.settings?.bucket || '').includes('readonly') ? 'AccessDenied: the credentials may read but not write this bucket' : '',
          existing: same ? o.result.object_count : b.prefix ? 3 : 0,
          existing_sample: mongo ? undefined : same || b.prefix ? ['uploads/2026/11/00001-photo img.jpg', 'uploads/2026/11/00002-photo img.jpg', 'uploads/2026/11/00003-photo img.jpg'] : [],
          collections_existing: mongo && same ? ['orders', 'customers'] : [],
          entries: o.result.object_count,
          bytes: o.result.total_bytes,
          estimated_seconds: Math.round(o.result.total_bytes / 60e6),
          same_as_original: same,
        })
      }
      if (same && !b.overwrite_original) return fail(res, 422, 'confirmation-required', 'Restoring over the original needs your explicit confirmation.', 'overwrite_original')
      const r = newOperation('restore', { id: o.destination.id, name: o.destination.name, kind: o.destination.kind }, { id: target.id, name: target.name, kind: target.kind }, {
        restore: { backup_id: o.id, target: { connection_id: target.id || undefined, kind: target.kind, name: target.name, settings: t.settings ? { bucket: t.settings.bucket } : undefined }, options: { prefix: b.prefix, database: b.database, conflict: b.conflict, overwrite_original: b.overwrite_original } },
      })
      r.internal.total = o.result.object_count
      r.internal.live = true
      r.internal.failVerify = (b.prefix || '').includes('corrupt')
      record('RestoreRequested.v1', `operation-${r.id}`, `restore of ${o.source.name} requested`)
      return send(res, 202, { id: r.id })
    }
  }
  if (path === '/api/audit') return send(res, 200, page(audit.filter((e) => (!q.get('actor') || e.actor === q.get('actor')) && (!q.get('stream') || e.stream === q.get('stream'))), q))
  return fail(res, 404, 'not-found', `No API route ${method} ${path}.`)
}

function manifestFor(o) {
  const mongo = o.source.kind === 'mongodb_source'
  const entries = mongo
    ? o.result.collections.map((c, i) => ({ index: i, key: c.name, path: `mongodb/shop/${c.name}.archive.gz`, size: c.bytes, sha256: createHash('sha256').update(c.name).digest('hex'), documents: c.documents }))
    : Array.from({ length: Math.min(o.result.object_count, 250) }, (_, i) => ({
        index: i,
        key: `uploads/2026/11/${String(i + 1).padStart(5, '0')}-photo img.jpg`,
        size: 7_340_032,
        sha256: createHash('sha256').update(String(i)).digest('hex'),
        etag: `"${createHash('md5').update(String(i)).digest('hex')}"`,
        content_type: 'image/jpeg',
        last_modified: '2026-11-20T10:00:00Z',
      }))
  return {
    format_version: 1,
    format: o.result.format,
    created_at: o.result.finished_at,
    source: { id: o.source.id, name: o.source.name, bucket: o.result.source_bucket, database: o.result.database },
    archive: { object_count: o.result.object_count, total_bytes: o.result.total_bytes, compressed_size: o.result.archive_size, sha256: o.result.archive_sha256 },
    entries,
  }
}

// ---------- pages ----------
const PUBLIC_PAGES = new Set(['/login', '/forgot-password', '/reset-password'])
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' }

async function pages(req, res, url) {
  ensureCsrf(req, res)
  if (url.pathname === '/mock-oauth/consent') {
    // The emulated Google consent: straight back to the callback.
    res.writeHead(302, { Location: `/oauth/google/callback?code=mock&state=${url.searchParams.get('state')}` })
    return res.end()
  }
  if (url.pathname === '/oauth/google/callback') {
    const b = state.oauth.get(url.searchParams.get('state'))
    if (!b) {
      res.writeHead(302, { Location: '/connections/new?kind=gdrive_destination&error=' + encodeURIComponent('The sign-in with Google expired; try again.') })
      return res.end()
    }
    const spec = kindSpecs.find((k) => k.kind === 'gdrive_destination')
    const now = new Date().toISOString()
    let c = state.conns.find((x) => x.id === b.connection_id)
    if (!c) {
      c = { id: randomUUID(), kind: spec.kind, role: spec.role, service: spec.service, name: b.name, settings: {}, secrets: {}, created_at: now, details: {} }
      state.conns.push(c)
    }
    Object.assign(c, {
      name: b.name,
      settings: { folder_name: b.folder_name, folder_id: '1AbCdEfGhIjK', account_email: 'ada@example.com', token_expiry: new Date(Date.now() + 3600e3).toISOString() },
      secrets: { access_token: 'x', refresh_token: 'y' },
      status: 'valid',
      status_reason: '',
      checked_at: now,
      updated_at: now,
      details: { account_email: 'ada@example.com', quota_used: '2.1 GiB of 15 GiB' },
    })
    record('ConnectionCreated.v1', `connection-${c.id}`, `Google Drive folder ${c.name} connected`)
    res.writeHead(302, { Location: `/connections/${c.id}?connected=1` })
    return res.end()
  }
  if (!SERVE_DIST) {
    res.writeHead(404)
    return res.end('not found')
  }
  const file = join(DIST, url.pathname)
  if (url.pathname !== '/' && file.startsWith(DIST)) {
    try {
      if ((await stat(file)).isFile()) {
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' })
        return res.end(await readFile(file))
      }
    } catch {
      /* not a file: the SPA's index */
    }
  }
  if (!PUBLIC_PAGES.has(url.pathname)) {
    const s = sessionOf(req, res)
    if (!s.ok) {
      const to = s.code === 'session-expired' ? '/login?expired=1' : `/login?next=${encodeURIComponent(url.pathname + url.search)}`
      res.writeHead(302, { Location: to })
      return res.end()
    }
  }
  res.writeHead(200, { 'Content-Type': TYPES['.html'] })
  res.end(await readFile(join(DIST, 'index.html')))
}

createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`)
  const handler = url.pathname.startsWith('/api/') ? api : pages
  handler(req, res, url).catch((e) => {
    console.error(e)
    if (!res.headersSent) fail(res, 500, 'internal', 'The mock ran into an error.')
  })
}).listen(PORT, '127.0.0.1', () => console.log(`backupd mock API on http://127.0.0.1:${PORT}${SERVE_DIST ? ' (serving dist/)' : ''}`))

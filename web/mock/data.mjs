// Seed data for the mock API: the kinds (as domain.KindSpecs serves them),
// a few connections, and a history of operations.
import { createHash, randomUUID } from 'node:crypto'

const s3Fields = [
  { name: 'access_key_id', label: 'Access key ID', type: 'text', required: true },
  { name: 'secret_access_key', label: 'Secret access key', type: 'secret', required: true },
  { name: 'region', label: 'Region', type: 'text', required: true, help: 'for example us-east-1' },
  { name: 'bucket', label: 'Bucket', type: 'text', required: true },
  { name: 'endpoint', label: 'Endpoint URL', type: 'text', required: false, help: 'only for S3-compatible services (MinIO, Wasabi, …); empty for AWS' },
  { name: 'path_style', label: 'Path-style addressing', type: 'bool', required: false, help: 'needed by most S3-compatible services' },
]

export const kindSpecs = [
  { kind: 's3_source', label: 'S3 bucket', role: 'source', service: 's3', fields: s3Fields },
  {
    kind: 'mongodb_source',
    label: 'MongoDB database',
    role: 'source',
    service: 'mongodb',
    fields: [
      { name: 'uri', label: 'Connection URI', type: 'secret', required: true, help: 'mongodb:// or mongodb+srv:// URI; credentials in it are encrypted like any secret' },
      { name: 'database', label: 'Database', type: 'text', required: true },
      { name: 'username', label: 'Username', type: 'text', required: false },
      { name: 'password', label: 'Password', type: 'secret', required: false },
      { name: 'auth_database', label: 'Authentication database', type: 'text', required: false, help: 'defaults to admin' },
    ],
  },
  {
    kind: 's3_destination',
    label: 'S3 bucket',
    role: 'destination',
    service: 's3',
    fields: [...s3Fields, { name: 'prefix', label: 'Key prefix', type: 'text', required: false, help: 'archives are stored under this prefix, for example backups/' }],
  },
  {
    kind: 'gdrive_destination',
    label: 'Google Drive folder',
    role: 'destination',
    service: 'gdrive',
    fields: [
      { name: 'folder_name', label: 'Folder name', type: 'text', required: true, help: 'created in My Drive when it does not exist' },
      { name: 'folder_id', label: 'Folder ID', type: 'text', required: false, managed: true },
      { name: 'account_email', label: 'Google account', type: 'text', required: false, managed: true },
      { name: 'access_token', label: 'Access token', type: 'secret', required: false, managed: true },
      { name: 'refresh_token', label: 'Refresh token', type: 'secret', required: true, managed: true },
      { name: 'token_expiry', label: 'Access token expiry', type: 'text', required: false, managed: true },
    ],
  },
]

export function resultFor(o, name, size, count, total) {
  const mongo = o.source.kind === 'mongodb_source'
  const dest = o.destination.kind === 'gdrive_destination' ? 'gdrive://1AbCdEfGhIjK' : 's3://offsite-archives/backups'
  return {
    format: mongo ? 'mongodb-tar-gz/1' : 's3-bucket-tar-gz/1',
    archive_name: name,
    archive_location: `${dest}/${name}`,
    manifest_location: `${dest}/${name}.manifest.json`,
    archive_size: size,
    archive_sha256: createHash('sha256').update(name).digest('hex'),
    manifest_sha256: createHash('sha256').update(name + 'm').digest('hex'),
    object_count: mongo ? 4 : count,
    total_bytes: total,
    source_bucket: mongo ? undefined : 'prod-uploads',
    database: mongo ? 'shop' : undefined,
    collections: mongo
      ? [
          { name: 'orders', documents: 182_340, bytes: 91_000_000 },
          { name: 'customers', documents: 12_004, bytes: 8_400_000 },
          { name: 'products', documents: 2_310, bytes: 1_900_000 },
          { name: 'sessions', documents: 0, bytes: 0 },
        ]
      : undefined,
    mongodump_version: mongo ? 'mongodump version: 100.10.0' : undefined,
    started_at: o.started_at,
    finished_at: o.finished_at,
  }
}


function conn(kind, name, settings, secrets, status = 'valid', extra = {}) {
  const spec = kindSpecs.find((k) => k.kind === kind)
  const checked = new Date(Date.now() - (3 + Math.random() * 50) * 60e3).toISOString()
  return {
    id: randomUUID(),
    kind,
    role: spec.role,
    service: spec.service,
    name,
    settings,
    secrets,
    status,
    status_reason: '',
    status_field: '',
    checked_at: status === 'unchecked' ? null : checked,
    details: {},
    created_at: new Date(Date.now() - 30 * 86400e3).toISOString(),
    updated_at: new Date(Date.now() - 2 * 86400e3).toISOString(),
    ...extra,
  }
}

export function seed() {
  const s3 = { access_key_id: 'AKIAEXAMPLE', region: 'us-east-1', endpoint: 'http://127.0.0.1:7070', path_style: 'true' }
  const conns = [
    conn('s3_source', 'Production uploads', { ...s3, bucket: 'prod-uploads' }, { secret_access_key: 'x' }),
    conn('mongodb_source', 'Shop database', { database: 'shop', username: '', auth_database: 'admin' }, { uri: 'x' }),
    conn('s3_source', 'Legacy media', { ...s3, bucket: 'legacy-media' }, { secret_access_key: 'x' }, 'invalid', {
      status_reason: 'InvalidAccessKeyId: the AWS access key id you provided does not exist in our records',
      status_field: 'access_key_id',
    }),
    conn('s3_destination', 'Offsite archives', { ...s3, bucket: 'offsite-archives', prefix: 'backups/' }, { secret_access_key: 'x' }),
    conn('gdrive_destination', 'Team Drive backups', { folder_name: 'backupd', folder_id: '1AbCdEfGhIjK', account_email: 'ada@example.com' }, { access_token: 'x', refresh_token: 'y' }, 'unchecked', {
      details: { account_email: 'ada@example.com', quota_used: '2.1 GiB of 15 GiB' },
    }),
  ]
  const [uploads, shop, legacy, offsite, drive] = conns
  const ops = []
  const statuses = ['completed', 'completed', 'completed', 'failed', 'completed', 'cancelled', 'completed', 'completed', 'interrupted', 'completed']
  for (let i = 0; i < 34; i++) {
    const src = i % 3 === 0 ? shop : i % 7 === 3 ? legacy : uploads
    const dst = i % 2 === 0 ? offsite : drive
    const status = src === legacy ? 'failed' : statuses[i % statuses.length]
    const requested = new Date(Date.now() - (i + 1) * 13.7 * 3600e3)
    const started = new Date(requested.getTime() + 4000)
    const finished = status === 'interrupted' ? null : new Date(started.getTime() + (120 + i * 37) * 1000)
    const total = 900 + i * 41
    const o = {
      id: randomUUID(),
      kind: 'backup',
      status,
      source: { id: src.id, name: src.name, kind: src.kind },
      destination: { id: dst.id, name: dst.name, kind: dst.kind },
      requested_at: requested.toISOString(),
      started_at: started.toISOString(),
      finished_at: finished?.toISOString() ?? null,
      archive_size: null,
      requested_by: 'admin@example.com',
      progress: { phase: status === 'completed' ? 'done' : 'archiving', objects_done: status === 'completed' ? total : Math.round(total / 2), objects_total: total, bytes_done: total * 2_100_000, bytes_total: total * 4_200_000, compressed_bytes: total * 1_300_000, uploaded_bytes: total * 1_200_000, bytes_per_second: 0, seconds_left: -1 },
      pause_requested: false,
      cancel_requested: false,
      attempt: 1,
      worker_id: 'worker-1',
      logs: [],
      internal: { seq: 0, live: false },
    }
    if (status === 'completed') {
      o.progress.bytes_done = o.progress.bytes_total
      o.archive_size = Math.round(o.progress.bytes_total * 0.61)
      o.result = resultFor(o, `${src.name.toLowerCase().replace(/\W+/g, '-')}-${o.finished_at.replace(/[:.]/g, '')}.tar.gz`, o.archive_size, total, o.progress.bytes_total)
    }
    if (status === 'failed') {
      o.error = src === legacy ? 'listing bucket legacy-media: InvalidAccessKeyId: the AWS access key id you provided does not exist in our records' : 'uploading part 12: RequestTimeout: your socket connection to the server was not read from or written to within the timeout period'
      o.error_code = src === legacy ? 'source-unreachable' : 'upload-failed'
    }
    if (status === 'interrupted') o.error = 'worker stopped: no heartbeat for 90 seconds'
    const at = (k) => new Date(started.getTime() + k * 1000).toISOString()
    const add = (level, message, k) => o.logs.push({ seq: ++o.internal.seq, at: at(k), level, message })
    add('info', `backup requested by admin@example.com`, 0)
    add('info', `worker worker-1 claimed the operation (attempt 1)`, 1)
    add('info', `connecting to ${src.name}`, 1)
    add('info', `connecting to ${dst.name}`, 2)
    for (let n = 1; n <= 60; n++) add(n % 23 === 0 ? 'warn' : 'info', n % 23 === 0 ? `object ${n}: slow read, retrying` : `archived uploads/2025/${String(n).padStart(5, '0')}.jpg (2.0 MiB)`, 2 + n)
    if (status === 'completed') add('info', `archive complete: ${total} objects`, 70)
    if (status === 'failed') add('error', `${o.error}\ngoroutine 54 [running]:\nbackupd/executors/s3.(*Source).List(...)\n\t/src/executors/s3/source.go:97 +0x2a1`, 70)
    if (status === 'cancelled') add('info', 'cancelled; aborted the multipart upload and removed temporary files', 70)
    if (status === 'interrupted') add('error', 'worker stopped: no heartbeat for 90 seconds', 200)
    // MOCK_LONGLOG=N gives the newest operation N more lines (to try long logs).
    if (i === 0) for (let n = 0; n < Number(process.env.MOCK_LONGLOG || 0); n++) add(n % 50 === 0 ? 'warn' : 'info', `long log line ${n + 1}: archived uploads/2025/${String(n).padStart(6, '0')}.jpg`, 72 + n / 100)
    add('debug', `operation ${status}`, 80 + Number(process.env.MOCK_LONGLOG || 0) / 100)
    ops.push(o)
  }
  const audit = []
  for (let i = 0; i < 120; i++) {
    const types = ['UserLoggedIn.v1', 'ConnectionValidated.v1', 'BackupRequested.v1', 'OperationStarted.v1', 'OperationCompleted.v1', 'ConnectionUpdated.v1']
    const t = types[i % types.length]
    audit.push({
      id: randomUUID(),
      type: t,
      stream: t.startsWith('Connection') ? `connection-${conns[i % conns.length].id}` : t.startsWith('User') ? 'user-admin' : `operation-${ops[i % ops.length].id}`,
      actor_id: t === 'OperationStarted.v1' || t === 'OperationCompleted.v1' ? '' : 'u-1',
      actor_name: t === 'OperationStarted.v1' || t === 'OperationCompleted.v1' ? '' : 'admin@example.com',
      at: new Date(Date.now() - i * 3.1 * 3600e3).toISOString(),
      summary: {
        'UserLoggedIn.v1': 'admin@example.com logged in',
        'ConnectionValidated.v1': `${conns[i % conns.length].name} checked: valid`,
        'BackupRequested.v1': `backup of ${ops[i % ops.length].source.name} requested`,
        'OperationStarted.v1': 'worker-1 started the operation',
        'OperationCompleted.v1': 'operation completed',
        'ConnectionUpdated.v1': `connection ${conns[i % conns.length].name} updated`,
      }[t],
    })
  }
  return { conns, ops, audit, oauth: new Map() }
}

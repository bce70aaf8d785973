// Every type the HTTP API (httpapi/API.md) sends or takes, in one place.
// Field names are the API's snake_case JSON names.

export type Role = 'source' | 'destination'
export type Service = 's3' | 'mongodb' | 'gdrive'
export type ConnectionKind = 's3_source' | 'mongodb_source' | 's3_destination' | 'gdrive_destination'
export type ConnectionStatus = 'valid' | 'invalid' | 'unchecked'

export type OperationStatus =
  | 'pending'
  | 'running'
  | 'paused'
  | 'interrupted'
  | 'completed'
  | 'failed'
  | 'cancelled'

/** In display order (domain.AllOperationStatuses). */
export const OPERATION_STATUSES: OperationStatus[] = [
  'pending',
  'running',
  'paused',
  'interrupted',
  'completed',
  'failed',
  'cancelled',
]

export const TERMINAL_STATUSES: ReadonlySet<OperationStatus> = new Set(['completed', 'failed', 'cancelled'])

export type OperationKind = 'backup' | 'restore'
export type OperationAction = 'pause' | 'resume' | 'cancel'

/** The error body: {"error": {...}}. */
export interface ApiErrorBody {
  code: string
  message: string
  field?: string
}

export interface User {
  id: string
  email: string
  name: string
  role: string
  last_login_at?: string | null
}

export interface Session {
  authenticated: boolean
  user?: User | null
  idle_timeout_seconds: number
  csrf_token: string
  /** How often live pages poll; 10 when the server does not say. */
  poll_interval_seconds?: number
  /** The session cookie named a session that the idle timeout ended. */
  session_expired?: boolean
}

export interface Page<T> {
  items: T[]
  page: number
  per_page: number
  total: number
}

export interface FieldSpec {
  name: string
  label: string
  type: 'text' | 'secret' | 'bool' | 'select'
  required: boolean
  help?: string
  options?: string[]
  managed?: boolean
}

export interface KindSpec {
  kind: ConnectionKind
  label: string
  role: Role
  service: Service
  fields: FieldSpec[]
}

export interface Connection {
  id: string
  kind: ConnectionKind
  role: Role
  service: Service
  name: string
  settings: Record<string, string>
  secrets_set: Record<string, boolean>
  status: ConnectionStatus
  status_reason?: string
  status_field?: string
  checked_at?: string | null
  details?: Record<string, string>
  active_operations: number
  created_at: string
  updated_at: string
}

export interface ConnectionInput {
  kind?: ConnectionKind
  name: string
  settings: Record<string, string>
  secrets: Record<string, string>
}

export interface ConnectionRef {
  /** null for a restore target typed in rather than chosen. */
  id: string | null
  name: string
  kind: ConnectionKind
}

export interface OperationSummary {
  id: string
  kind: OperationKind
  status: OperationStatus
  source: ConnectionRef
  destination: ConnectionRef
  requested_at: string
  started_at?: string | null
  finished_at?: string | null
  archive_size?: number | null
  requested_by?: string
}

export type OperationTotals = Partial<Record<OperationStatus, number>>

export interface OperationPage extends Page<OperationSummary> {
  totals: OperationTotals
}

export interface Progress {
  phase: string
  objects_done: number
  objects_total: number
  bytes_done: number
  bytes_total: number
  compressed_bytes: number
  uploaded_bytes: number
  bytes_per_second: number
  seconds_left: number
  current?: string
  updated_at?: string
}

export interface CollectionSummary {
  name: string
  documents: number
  bytes: number
}

export interface BackupResult {
  format: string
  archive_name: string
  archive_location: string
  manifest_location: string
  archive_size: number
  archive_sha256: string
  manifest_sha256: string
  object_count: number
  total_bytes: number
  source_bucket?: string
  database?: string
  collections?: CollectionSummary[]
  mongodump_version?: string
  started_at: string
  finished_at: string
}

export interface Mismatch {
  key: string
  reason: string
}

export interface CollectionCheck {
  name: string
  expected_docs: number
  actual_docs: number
  hashes_compared: number
  hash_mismatches: number
  /** documents the target already held besides the archive's (insert mode) */
  extra_docs?: number
  ok: boolean
}

export interface RestoreReport {
  verified: boolean
  summary: string
  checked: number
  restored: number
  skipped: number
  missing?: string[]
  mismatched?: Mismatch[]
  extra?: string[]
  collections?: CollectionCheck[]
  truncated?: boolean
}

export interface RestoreTargetView {
  connection_id?: string
  kind: ConnectionKind
  name: string
  settings?: Record<string, string>
  secrets_set?: Record<string, boolean>
}

export interface RestoreOptions {
  prefix?: string
  database?: string
  conflict: Conflict
  overwrite_original?: boolean
}

export interface Operation extends OperationSummary {
  progress?: Progress | null
  pause_requested: boolean
  cancel_requested: boolean
  /** What the UI may offer now: pause, resume, cancel, and restore for a completed backup. */
  allowed_actions: (OperationAction | 'restore')[]
  worker_id?: string
  attempt?: number
  heartbeat_at?: string | null
  paused_position?: string
  error?: string
  error_code?: string
  /** Stack trace of a failed operation. */
  stack?: string
  archive_location?: string
  object_count?: number | null
  total_bytes?: number | null
  /** Restores: the backup they restore. */
  backup_id?: string
  result?: BackupResult | null
  restore?: {
    backup_id: string
    archive?: ConnectionRef
    backup?: BackupResult
    target: RestoreTargetView
    options: RestoreOptions
  } | null
  report?: RestoreReport | null
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | string

export interface LogLine {
  seq: number
  at: string
  level: LogLevel
  message: string
  /** "executor" (the work itself) or "status" (status changes). */
  origin?: string
}

export interface LogPage {
  lines: LogLine[]
  last_seq: number
}

export type Conflict = 'overwrite' | 'skip' | 'drop' | 'insert'

export type RestoreTargetInput =
  | { connection_id: string }
  | { kind: ConnectionKind; settings: Record<string, string>; secrets: Record<string, string> }

export interface RestoreRequest {
  target: RestoreTargetInput
  prefix?: string
  database?: string
  conflict: Conflict
  overwrite_original: boolean
}

export interface Preflight {
  writable: boolean
  writable_reason?: string
  existing: number
  existing_sample?: string[]
  collections_existing?: string[]
  entries: number
  bytes: number
  estimated_seconds: number
  same_as_original: boolean
  /** How estimated_seconds was reckoned, in words. */
  estimate_basis?: string
  /** Where the restore writes, in words. */
  target?: string
}

/** The manifest stored beside an archive. Its exact shape belongs to the
 * executors; the UI reads the fields it knows and shows the rest as is. */
export type Manifest = Record<string, unknown>

export interface AuditEvent {
  id: string
  type: string
  stream: string
  actor_id?: string
  actor_name?: string
  correlation_id?: string | null
  causation_id?: string | null
  at: string
  summary: string
}

export interface OperationFilters {
  status: OperationStatus | ''
  kind: OperationKind | ''
  source_id: string
  from: string
  to: string
  page: number
  per_page: number
}

import type { Connection, ConnectionStatus, OperationStatus } from '../api/types'
import { formatRelative } from '../lib/format'

const opTone: Record<OperationStatus, string> = {
  pending: 'info',
  running: 'primary pulse',
  paused: 'warning',
  interrupted: 'warning',
  completed: 'success',
  failed: 'danger',
  cancelled: '',
}

export function OperationStatusBadge({ status, testid = 'operation-status' }: { status: OperationStatus; testid?: string }) {
  return (
    <span className={`badge status ${opTone[status] ?? ''}`} data-testid={testid} data-status={status}>
      <span className="dot" />
      {status}
    </span>
  )
}

const connTone: Record<ConnectionStatus, string> = { valid: 'success', invalid: 'danger', unchecked: '' }
const connLabel: Record<ConnectionStatus, string> = { valid: 'Valid', invalid: 'Invalid', unchecked: 'Not yet checked' }

export function ConnectionStatusBadge({ status, testid = 'connection-status' }: { status: ConnectionStatus; testid?: string }) {
  return (
    <span className={`badge ${connTone[status] ?? ''}`} data-testid={testid} data-status={status} >
      <span className="dot" />
      {connLabel[status] ?? status}
    </span>
  )
}

/** "last checked 3 min ago" with the exact time on hover. */
export function CheckedAt({ conn, now }: { conn: Connection; now?: number }) {
  if (!conn.checked_at) return <span className="muted small" data-testid="connection-checked-at">never checked</span>
  return (
    <span className="muted small" title={conn.checked_at} data-testid="connection-checked-at">
      last checked {formatRelative(conn.checked_at, now)}
    </span>
  )
}

export function KindBadge({ label }: { label: string }) {
  return (
    <span className="badge">
      {label}
    </span>
  )
}

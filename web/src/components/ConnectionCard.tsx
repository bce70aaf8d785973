import { useState } from 'react'
import { api } from '../api/client'
import type { Connection } from '../api/types'
import { connectionTarget, serviceLabel } from '../lib/kinds'
import { Link } from '../lib/router'
import { CheckedAt, ConnectionStatusBadge } from './Badges'
import { useBackupNow } from './BackupNow'
import { Icon, serviceIcon } from './Icon'
import { useToast } from './Toasts'

/** A source or destination with its status, a re-check and a quick backup. */
export function ConnectionCard({ conn, onChange, now }: { conn: Connection; onChange: (c: Connection) => void; now: number }) {
  const [checking, setChecking] = useState(false)
  const toast = useToast()
  const backupNow = useBackupNow()

  const recheck = async () => {
    setChecking(true)
    try {
      const c = await api.checkConnection(conn.id)
      onChange(c)
      if (c.status === 'valid') toast.success(`${c.name} is reachable.`, 'Check passed')
      else toast.error(c.status_reason || 'The check failed.', `${c.name} failed its check`)
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e), 'Could not run the check')
    } finally {
      setChecking(false)
    }
  }

  const target = connectionTarget(conn)
  return (
    <article className="card conn-card" data-testid="connection-card" data-connection-id={conn.id} data-connection-name={conn.name}>
      <div className="card-body">
        <div className="conn-title">
          <span className={`service-icon ${conn.service}`}>
            <Icon name={serviceIcon(conn.service)} size={18} />
          </span>
          <div style={{ minWidth: 0, flex: 1 }}>
            <Link to={`/connections/${conn.id}`} className="truncate" style={{ display: 'block' }} data-testid="connection-name">
              {conn.name}
            </Link>
            <div className="muted small truncate" title={target}>
              {serviceLabel[conn.service] ?? conn.service} {conn.role}
              {target ? ` · ${target}` : ''}
            </div>
          </div>
          <ConnectionStatusBadge status={conn.status} />
        </div>
        {conn.status === 'invalid' && conn.status_reason && (
          <div className="reason" data-testid="connection-status-reason">
            {conn.status_field ? <strong>{conn.status_field}: </strong> : null}
            {conn.status_reason}
          </div>
        )}
        <div className="row wrap" style={{ marginTop: 'auto' }}>
          <CheckedAt conn={conn} now={now} />
          {conn.active_operations > 0 && <span className="badge primary">{conn.active_operations} active</span>}
        </div>
      </div>
      <div className="card-foot" style={{ justifyContent: 'space-between' }}>
        <button className="btn sm" onClick={recheck} disabled={checking} data-testid="connection-recheck">
          {checking ? <span className="spinner" /> : <Icon name="refresh" size={14} />}
          {checking ? 'Checking…' : 'Re-check'}
        </button>
        <button
          className="btn sm"
          onClick={() => backupNow.open(conn.role === 'source' ? { sourceId: conn.id } : { destinationId: conn.id })}
          data-testid="connection-backup-now"
        >
          <Icon name="upload" size={14} /> Back up {conn.role === 'source' ? 'now' : 'here'}
        </button>
      </div>
    </article>
  )
}

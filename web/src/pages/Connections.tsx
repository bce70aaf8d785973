import { useState } from 'react'
import { api, isApiError } from '../api/client'
import type { Connection } from '../api/types'
import { CheckedAt, ConnectionStatusBadge } from '../components/Badges'
import { ConfirmDialog } from '../components/Dialog'
import { Icon, serviceIcon } from '../components/Icon'
import { EmptyState, ErrorPanel, PageHeader, SkeletonRows } from '../components/States'
import { useToast } from '../components/Toasts'
import { connectionTarget, kindLabel, useKinds } from '../lib/kinds'
import { Link, useNavigate } from '../lib/router'
import { useAsync, useNow } from '../lib/useAsync'

export function ConnectionsPage() {
  const conns = useAsync(() => api.connections(), [])
  const { kinds } = useKinds()
  const now = useNow()
  const toast = useToast()
  const navigate = useNavigate()
  const [deleting, setDeleting] = useState<Connection | null>(null)
  const [checking, setChecking] = useState<string | null>(null)

  const recheck = async (c: Connection) => {
    setChecking(c.id)
    try {
      const updated = await api.checkConnection(c.id)
      conns.setData((l) => l?.map((x) => (x.id === c.id ? updated : x)))
      if (updated.status === 'valid') toast.success(`${updated.name} is reachable.`, 'Check passed')
      else toast.error(updated.status_reason || 'The check failed.', `${updated.name} failed its check`)
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e), 'Could not run the check')
    } finally {
      setChecking(null)
    }
  }

  const remove = async (c: Connection) => {
    try {
      await api.deleteConnection(c.id)
      conns.setData((l) => l?.filter((x) => x.id !== c.id))
      toast.success(`${c.name} was deleted.`)
    } catch (e) {
      // 409 connection-in-use: the server's message says why.
      toast.error(e instanceof Error ? e.message : String(e), isApiError(e) && e.code === 'connection-in-use' ? 'Cannot delete' : 'Delete failed')
    }
  }

  const items = conns.data ?? []
  return (
    <>
      <PageHeader
        title="Connections"
        subtitle="Sources to back up and destinations for the archives. Each is checked by connecting before it is saved."
        actions={
          <Link to="/connections/new" className="btn primary" data-testid="connections-new">
            <Icon name="plus" /> New connection
          </Link>
        }
      />
      {conns.error && <ErrorPanel message={conns.error.message} onRetry={conns.reload} />}
      <section className="card">
        {conns.data && items.length === 0 ? (
          <EmptyState
            icon="plug"
            title="No connections yet"
            testid="connections-empty"
            action={
              <Link to="/connections/new" className="btn primary sm">
                <Icon name="plus" size={14} /> New connection
              </Link>
            }
          >
            Add an S3 bucket or a MongoDB database as a source, and an S3 bucket or a Google Drive folder as a destination.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="connections-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th>Status</th>
                  <th>Checked</th>
                  <th className="num">Active</th>
                  <th className="num">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {conns.loading && !conns.data ? (
                  <SkeletonRows rows={4} cols={6} />
                ) : (
                  items.map((c) => (
                    <tr key={c.id} data-testid="connection-row" data-connection-id={c.id} data-connection-name={c.name}>
                      <td>
                        <div className="conn-title">
                          <span className={`service-icon ${c.service}`} style={{ width: 30, height: 30 }}>
                            <Icon name={serviceIcon(c.service)} size={15} />
                          </span>
                          <div style={{ minWidth: 0 }}>
                            <Link to={`/connections/${c.id}`} data-testid="connection-name">
                              {c.name}
                            </Link>
                            <div className="muted small truncate" style={{ maxWidth: 320 }}>
                              {connectionTarget(c)}
                            </div>
                          </div>
                        </div>
                      </td>
                      <td className="nowrap">{kindLabel(kinds, c.kind)}</td>
                      <td>
                        <ConnectionStatusBadge status={c.status} />
                        {c.status === 'invalid' && c.status_reason && (
                          <div className="small" style={{ color: 'var(--danger)', maxWidth: 280 }} data-testid="connection-status-reason">
                            {c.status_reason}
                          </div>
                        )}
                      </td>
                      <td className="nowrap">
                        <CheckedAt conn={c} now={now} />
                      </td>
                      <td className="num">{c.active_operations || '—'}</td>
                      <td className="num nowrap">
                        <div className="row" style={{ justifyContent: 'flex-end', gap: 4 }}>
                          <button
                            className="btn sm ghost icon"
                            onClick={() => recheck(c)}
                            disabled={checking === c.id}
                            aria-label={`Re-check ${c.name}`}
                            title="Re-check"
                            data-testid="connection-recheck"
                          >
                            {checking === c.id ? <span className="spinner" /> : <Icon name="refresh" size={14} />}
                          </button>
                          <button className="btn sm ghost icon" onClick={() => navigate(`/connections/${c.id}`)} aria-label={`Edit ${c.name}`} title="Edit" data-testid="connection-edit">
                            <Icon name="edit" size={14} />
                          </button>
                          <button className="btn sm ghost icon" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`} title="Delete" data-testid="connection-delete">
                            <Icon name="trash" size={14} />
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message={
            <>
              The connection and its stored credentials are removed. Archives already written stay where they are, and the history keeps its operations.
              {deleting.active_operations > 0 && (
                <p style={{ marginTop: 8, color: 'var(--warning)' }}>It has {deleting.active_operations} active operation(s); the server will refuse until they end.</p>
              )}
            </>
          }
          confirmLabel="Delete connection"
          onConfirm={() => remove(deleting)}
          onClose={() => setDeleting(null)}
          testid="delete-connection-dialog"
        />
      )}
    </>
  )
}

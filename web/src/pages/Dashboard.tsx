import { useEffect, useRef } from 'react'
import { api } from '../api/client'
import { TERMINAL_STATUSES, type Connection, type OperationStatus } from '../api/types'
import { useBackupNow } from '../components/BackupNow'
import { ConnectionCard } from '../components/ConnectionCard'
import { Icon } from '../components/Icon'
import { OperationsTable } from '../components/OperationsTable'
import { EmptyState, ErrorPanel, PageHeader, SkeletonCard } from '../components/States'
import { formatCount } from '../lib/format'
import { Link } from '../lib/router'
import { useAsync, useNow } from '../lib/useAsync'
import { useSession } from '../session'

const stats: { status: OperationStatus; label: string; tone: string }[] = [
  { status: 'running', label: 'Running', tone: 'var(--primary)' },
  { status: 'completed', label: 'Completed', tone: 'var(--success)' },
  { status: 'failed', label: 'Failed', tone: 'var(--danger)' },
  { status: 'paused', label: 'Paused', tone: 'var(--warning)' },
  { status: 'pending', label: 'Pending', tone: 'var(--info)' },
]

export function DashboardPage() {
  const conns = useAsync(() => api.connections(), [])
  const polling = useRef(false)
  const ops = useAsync(() => api.operations({ page: 1, per_page: 8 }, polling.current), [])
  const { pollSeconds } = useSession()
  const now = useNow(15_000)
  const backupNow = useBackupNow()

  // Keep recent operations fresh while some of them are still moving.
  const moving = ops.data?.items.some((o) => !TERMINAL_STATUSES.has(o.status)) ?? false
  const reloadOps = ops.reload
  useEffect(() => {
    if (!moving) return
    const t = window.setInterval(() => {
      polling.current = true
      void reloadOps().finally(() => (polling.current = false))
    }, pollSeconds * 1000)
    return () => window.clearInterval(t)
  }, [moving, pollSeconds, reloadOps])

  const replace = (c: Connection) => conns.setData((list) => list?.map((x) => (x.id === c.id ? c : x)))
  const sources = conns.data?.filter((c) => c.role === 'source') ?? []
  const destinations = conns.data?.filter((c) => c.role === 'destination') ?? []
  const totals = ops.data?.totals ?? {}

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle="Your sources and destinations, and what ran lately."
        actions={
          <>
            <Link to="/connections/new" className="btn" data-testid="dashboard-add-connection">
              <Icon name="plus" /> Add connection
            </Link>
            <button className="btn primary" onClick={() => backupNow.open()} data-testid="dashboard-backup-now">
              <Icon name="upload" /> Back up now
            </button>
          </>
        }
      />

      <section className="grid stats" aria-label="Operation totals" data-testid="dashboard-totals">
        {stats.map((s) => (
          <Link key={s.status} to={`/operations?status=${s.status}`} className="card stat" style={{ color: 'inherit', textDecoration: 'none' }} data-testid={`total-${s.status}`}>
            <span className="label row">
              <span style={{ width: 8, height: 8, borderRadius: 4, background: s.tone, display: 'inline-block' }} />
              {s.label}
            </span>
            <span className="value" data-testid={`total-${s.status}-value`}>
              {ops.data ? formatCount(totals[s.status] ?? 0) : '–'}
            </span>
          </Link>
        ))}
      </section>

      {conns.error && <ErrorPanel message={conns.error.message} onRetry={conns.reload} />}

      <ConnectionSection
        title="Sources"
        role="source"
        items={sources}
        loading={conns.loading && !conns.data}
        onChange={replace}
        now={now}
      />
      <ConnectionSection
        title="Destinations"
        role="destination"
        items={destinations}
        loading={conns.loading && !conns.data}
        onChange={replace}
        now={now}
      />

      <section className="card" data-testid="recent-operations">
        <div className="card-head">
          <h2>Recent operations</h2>
          <Link to="/operations" className="small">
            View all history →
          </Link>
        </div>
        {ops.error ? (
          <div className="card-body">
            <ErrorPanel message={ops.error.message} onRetry={ops.reload} />
          </div>
        ) : ops.data && ops.data.items.length === 0 ? (
          <EmptyState icon="history" title="No operations yet" testid="recent-empty">
            Start a backup with "Back up now"; it will show here with its live log.
          </EmptyState>
        ) : (
          <OperationsTable items={ops.data?.items} loading={ops.loading} compact now={now} />
        )}
      </section>
    </>
  )
}

function ConnectionSection({
  title,
  role,
  items,
  loading,
  onChange,
  now,
}: {
  title: string
  role: 'source' | 'destination'
  items: Connection[]
  loading: boolean
  onChange: (c: Connection) => void
  now: number
}) {
  return (
    <section className="stack tight" aria-label={title} data-testid={`dashboard-${role}s`}>
      <div className="row">
        <h2 style={{ flex: 1 }}>
          {title} {!loading && <span className="muted">({items.length})</span>}
        </h2>
      </div>
      {loading ? (
        <div className="grid cols-3">
          <SkeletonCard />
          <SkeletonCard />
          <SkeletonCard />
        </div>
      ) : items.length === 0 ? (
        <div className="card">
          <EmptyState
            icon={role === 'source' ? 'database' : 'cloud'}
            title={role === 'source' ? 'No sources yet' : 'No destinations yet'}
            testid={`empty-${role}s`}
            action={
              <Link to="/connections/new" className="btn primary sm">
                <Icon name="plus" size={14} /> Add {role === 'source' ? 'a source' : 'a destination'}
              </Link>
            }
          >
            {role === 'source' ? 'An S3 bucket or a MongoDB database to back up.' : 'An S3 bucket or a Google Drive folder where archives go.'}
          </EmptyState>
        </div>
      ) : (
        <div className="grid cols-3">
          {items.map((c) => (
            <ConnectionCard key={c.id} conn={c} onChange={onChange} now={now} />
          ))}
        </div>
      )}
    </section>
  )
}

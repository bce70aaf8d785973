import { useMemo } from 'react'
import { api } from '../api/client'
import { Pagination } from '../components/Pagination'
import { EmptyState, ErrorPanel, PageHeader, SkeletonRows } from '../components/States'
import { formatDateTime, formatRelative } from '../lib/format'
import { useSearchParams } from '../lib/router'
import { useAsync, useNow } from '../lib/useAsync'

const PER_PAGE = 50

export function AuditPage() {
  const [params, setParams] = useSearchParams()
  const page = Math.max(1, Number(params.get('page')) || 1)
  const actor = params.get('actor') ?? ''
  const stream = params.get('stream') ?? ''
  const key = useMemo(() => `${page}|${actor}|${stream}`, [page, actor, stream])
  const events = useAsync(() => api.audit({ page, per_page: PER_PAGE, actor, stream }), [key])
  const now = useNow()

  const go = (change: Record<string, string | number>) => {
    const q = new URLSearchParams(params)
    for (const [k, v] of Object.entries(change)) {
      if (v === '' || v === 1) q.delete(k)
      else q.set(k, String(v))
    }
    const s = q.toString()
    setParams(s ? `?${s}` : '')
  }

  return (
    <>
      <PageHeader title="Audit log" subtitle="Every event the system recorded: logins, connections, operations, newest first." />
      {(actor || stream) && (
        <div className="row wrap">
          {actor && (
            <button className="chip active" onClick={() => go({ actor: '', page: 1 })} data-testid="audit-filter-actor">
              actor: {actor} ✕
            </button>
          )}
          {stream && (
            <button className="chip active" onClick={() => go({ stream: '', page: 1 })} data-testid="audit-filter-stream">
              stream: {stream} ✕
            </button>
          )}
        </div>
      )}
      <section className="card">
        {events.error ? (
          <div className="card-body">
            <ErrorPanel message={events.error.message} onRetry={events.reload} />
          </div>
        ) : events.data && events.data.items.length === 0 ? (
          <EmptyState icon="shield" title="No events" testid="audit-empty" />
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Event</th>
                  <th>Summary</th>
                  <th>Actor</th>
                  <th>Stream</th>
                </tr>
              </thead>
              <tbody>
                {events.loading && !events.data ? (
                  <SkeletonRows rows={10} cols={5} />
                ) : (
                  events.data?.items.map((ev, i) => (
                    <tr key={ev.id || `${ev.stream}-${ev.at}-${i}`} data-testid="audit-row" data-type={ev.type}>
                      <td className="nowrap" title={formatDateTime(ev.at)}>
                        {formatRelative(ev.at, now)}
                      </td>
                      <td className="nowrap">
                        <span className="badge mono" style={{ textTransform: 'none' }}>
                          {ev.type}
                        </span>
                      </td>
                      <td className="break" style={{ minWidth: 240 }}>
                        {ev.summary}
                      </td>
                      <td className="nowrap">
                        {ev.actor_name || ev.actor_id ? (
                          <a
                            href={`/audit?actor=${encodeURIComponent(ev.actor_name || ev.actor_id || '')}`}
                            onClick={(e) => {
                              e.preventDefault()
                              go({ actor: ev.actor_name || ev.actor_id || '', page: 1 })
                            }}
                            title={ev.actor_id}
                          >
                            {ev.actor_name || ev.actor_id}
                          </a>
                        ) : (
                          <span className="muted">system</span>
                        )}
                      </td>
                      <td className="mono small truncate" style={{ maxWidth: 220 }}>
                        <a
                          href={`/audit?stream=${encodeURIComponent(ev.stream)}`}
                          onClick={(e) => {
                            e.preventDefault()
                            go({ stream: ev.stream, page: 1 })
                          }}
                          title={ev.stream}
                        >
                          {ev.stream}
                        </a>
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        )}
        {events.data && events.data.total > 0 && (
          <Pagination page={page} perPage={events.data.per_page || PER_PAGE} total={events.data.total} onPage={(p) => go({ page: p })} testid="audit-pagination" />
        )}
      </section>
    </>
  )
}

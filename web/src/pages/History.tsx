// All operations, newest first, filtered by the URL query (so filters
// survive paging and reloads), with totals per status.
import { useEffect, useMemo, useRef } from 'react'
import { api } from '../api/client'
import { OPERATION_STATUSES, TERMINAL_STATUSES, type OperationFilters, type OperationStatus } from '../api/types'
import { Icon } from '../components/Icon'
import { OperationsTable } from '../components/OperationsTable'
import { Pagination } from '../components/Pagination'
import { EmptyState, ErrorPanel, PageHeader } from '../components/States'
import { filtersToQuery, hasActiveFilters, parseFilters, withFilter } from '../lib/filters'
import { formatCount } from '../lib/format'
import { useSearchParams } from '../lib/router'
import { useAsync, useNow } from '../lib/useAsync'
import { useSession } from '../session'

const chipOrder: OperationStatus[] = ['running', 'completed', 'failed', 'pending', 'paused', 'interrupted', 'cancelled']

export function HistoryPage() {
  const [params, setParams] = useSearchParams()
  const filters = useMemo(() => parseFilters(params), [params])
  const key = filtersToQuery(filters)
  const polling = useRef(false)
  const ops = useAsync(() => api.operations(filters, polling.current), [key])
  const sources = useAsync(() => api.connections('source'), [])
  const { pollSeconds } = useSession()
  const now = useNow(10_000)

  const update = (change: Partial<OperationFilters>) => setParams(filtersToQuery(withFilter(filters, change)))

  // Keep the page fresh while operations on it are still moving.
  const moving = ops.data?.items.some((o) => !TERMINAL_STATUSES.has(o.status)) ?? false
  const reload = ops.reload
  useEffect(() => {
    if (!moving) return
    const t = window.setInterval(() => {
      polling.current = true
      void reload().finally(() => (polling.current = false))
    }, pollSeconds * 1000)
    return () => window.clearInterval(t)
  }, [moving, pollSeconds, reload])

  const totals = ops.data?.totals ?? {}
  const allTotal = OPERATION_STATUSES.reduce((n, s) => n + (totals[s] ?? 0), 0)

  return (
    <>
      <PageHeader title="History" subtitle="Every backup and restore, newest first. Click one for its full log and metadata." />

      <div className="row wrap" role="group" aria-label="Totals by status" data-testid="history-totals">
        <button className={`chip ${filters.status === '' ? 'active' : ''}`} onClick={() => update({ status: '' })} aria-pressed={filters.status === ''} data-testid="history-total-all">
          All <strong>{ops.data ? formatCount(allTotal) : '–'}</strong>
        </button>
        {chipOrder.map((s) => (
          <button
            key={s}
            className={`chip ${filters.status === s ? 'active' : ''}`}
            onClick={() => update({ status: filters.status === s ? '' : s })}
            aria-pressed={filters.status === s}
            data-testid={`history-total-${s}`}
            data-count={totals[s] ?? 0}
          >
            <span style={{ textTransform: 'capitalize' }}>{s}</span> <strong>{ops.data ? formatCount(totals[s] ?? 0) : '–'}</strong>
          </button>
        ))}
      </div>

      <section className="card">
        <form className="card-body" onSubmit={(e) => e.preventDefault()} aria-label="Filters" data-testid="history-filters">
          <div className="filters">
            <div className="field">
              <label htmlFor="f-status">Status</label>
              <select id="f-status" className="select input" value={filters.status} onChange={(e) => update({ status: e.target.value as OperationStatus | '' })} data-testid="filter-status">
                <option value="">Any status</option>
                {OPERATION_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="f-kind">Kind</label>
              <select id="f-kind" className="select input" value={filters.kind} onChange={(e) => update({ kind: e.target.value as OperationFilters['kind'] })} data-testid="filter-kind">
                <option value="">Backups and restores</option>
                <option value="backup">Backups</option>
                <option value="restore">Restores</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="f-source">Source</label>
              <select id="f-source" className="select input" value={filters.source_id} onChange={(e) => update({ source_id: e.target.value })} data-testid="filter-source">
                <option value="">Any source</option>
                {sources.data?.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
                {filters.source_id && sources.data && !sources.data.some((c) => c.id === filters.source_id) && (
                  <option value={filters.source_id}>(deleted source)</option>
                )}
              </select>
            </div>
            <div className="field">
              <label htmlFor="f-from">From</label>
              <input id="f-from" type="date" className="input" value={filters.from} max={filters.to || undefined} onChange={(e) => update({ from: e.target.value })} data-testid="filter-from" />
            </div>
            <div className="field">
              <label htmlFor="f-to">To</label>
              <input id="f-to" type="date" className="input" value={filters.to} min={filters.from || undefined} onChange={(e) => update({ to: e.target.value })} data-testid="filter-to" />
            </div>
            <div className="field" style={{ justifyContent: 'flex-end' }}>
              <button
                type="button"
                className="btn ghost"
                disabled={!hasActiveFilters(filters)}
                onClick={() => setParams(filtersToQuery({ per_page: filters.per_page }))}
                data-testid="filter-clear"
              >
                <Icon name="x" size={14} /> Clear filters
              </button>
            </div>
          </div>
        </form>
        {ops.error ? (
          <div className="card-body">
            <ErrorPanel message={ops.error.message} onRetry={ops.reload} />
          </div>
        ) : ops.data && ops.data.items.length === 0 ? (
          <EmptyState icon="history" title={hasActiveFilters(filters) ? 'No operation matches these filters' : 'No operations yet'} testid="history-empty">
            {hasActiveFilters(filters) ? 'Try a wider date range or another status.' : 'Backups and restores show here as soon as they are requested.'}
          </EmptyState>
        ) : (
          <div aria-busy={ops.loading} style={{ opacity: ops.loading && ops.data ? 0.6 : 1, transition: 'opacity .15s' }}>
            <OperationsTable items={ops.data?.items} loading={ops.loading} now={now} />
          </div>
        )}
        {ops.data && ops.data.total > 0 && (
          <Pagination page={filters.page} perPage={filters.per_page} total={ops.data.total} onPage={(p) => update({ page: p })} />
        )}
      </section>
    </>
  )
}

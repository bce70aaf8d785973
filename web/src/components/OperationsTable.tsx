import type { OperationSummary } from '../api/types'
import { durationBetween, formatBytes, formatDateTime, formatDateTimeShort, formatDuration, formatRelative } from '../lib/format'
import { useNavigate } from '../lib/router'
import { OperationStatusBadge } from './Badges'
import { Icon } from './Icon'
import { SkeletonRows } from './States'

/** Operations newest first; a row opens the operation page (click or Enter). */
export function OperationsTable({
  items,
  loading,
  compact,
  now,
}: {
  items: OperationSummary[] | undefined
  loading: boolean
  compact?: boolean
  now: number
}) {
  const navigate = useNavigate()
  const cols = compact ? 5 : 8
  return (
    <div className="table-wrap">
      <table className="table" data-testid="operations-table">
        <thead>
          <tr>
            <th>Operation</th>
            <th>Source</th>
            <th>Destination</th>
            <th>Status</th>
            <th>Started</th>
            {!compact && <th>Finished</th>}
            {!compact && <th className="num">Archive size</th>}
            {!compact && <th className="num">Duration</th>}
          </tr>
        </thead>
        <tbody>
          {loading && !items ? (
            <SkeletonRows rows={compact ? 4 : 8} cols={cols} />
          ) : (
            items?.map((op) => {
              const open = () => navigate(`/operations/${op.id}`)
              const dur = durationBetween(op.started_at, op.finished_at, now)
              return (
                <tr
                  key={op.id}
                  className="clickable"
                  tabIndex={0}
                  onClick={open}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault()
                      open()
                    }
                  }}
                  data-testid="operation-row"
                  data-operation-id={op.id}
                  data-status={op.status}
                >
                  <td>
                    <a
                      href={`/operations/${op.id}`}
                      onClick={(e) => e.preventDefault()}
                      tabIndex={-1}
                      className="row"
                      style={{ color: 'var(--text)', fontWeight: 500, gap: 6 }}
                    >
                      <Icon name={op.kind === 'restore' ? 'restore' : 'upload'} size={14} />
                      <span style={{ textTransform: 'capitalize' }}>{op.kind}</span>
                    </a>
                  </td>
                  <td className="truncate" style={{ maxWidth: 200 }} data-testid="operation-row-source">
                    {op.source?.name ?? '—'}
                  </td>
                  <td className="truncate" style={{ maxWidth: 200 }} data-testid="operation-row-destination">
                    {op.destination?.name ?? '—'}
                  </td>
                  <td>
                    <OperationStatusBadge status={op.status} testid="operation-row-status" />
                  </td>
                  <td className="nowrap" title={formatDateTime(op.started_at ?? op.requested_at)}>
                    {compact ? formatRelative(op.started_at ?? op.requested_at, now) : formatDateTimeShort(op.started_at ?? null)}
                  </td>
                  {!compact && (
                    <td className="nowrap" title={formatDateTime(op.finished_at)}>
                      {formatDateTimeShort(op.finished_at)}
                    </td>
                  )}
                  {!compact && (
                    <td className="num nowrap" data-testid="operation-row-size">
                      {op.archive_size ? formatBytes(op.archive_size) : '—'}
                    </td>
                  )}
                  {!compact && <td className="num nowrap">{dur === null ? '—' : formatDuration(dur)}</td>}
                </tr>
              )
            })
          )}
        </tbody>
      </table>
    </div>
  )
}

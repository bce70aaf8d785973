import type { Operation } from '../api/types'
import { TERMINAL_STATUSES } from '../api/types'
import { durationBetween, formatBytes, formatCount, formatEta, formatRate, progressRatio } from '../lib/format'

/** The progress bar and the figures under it. */
export function OperationProgress({ op }: { op: Operation }) {
  const done = op.status === 'completed'
  const terminal = TERMINAL_STATUSES.has(op.status)
  // The last progress report can predate the end by a moment; a finished
  // backup's own result has the final figures.
  const r = done ? op.result : null
  const p = op.progress
    ? {
        ...op.progress,
        ...(r ? { objects_done: r.object_count, objects_total: r.object_count, bytes_done: r.total_bytes, bytes_total: r.total_bytes, compressed_bytes: r.archive_size, uploaded_bytes: r.archive_size } : {}),
      }
    : null
  const elapsed = durationBetween(op.started_at, op.finished_at)
  const average = terminal && p && elapsed ? p.bytes_done / elapsed : 0
  const byBytes = p ? progressRatio(p.bytes_done, p.bytes_total) : null
  const byObjects = p ? progressRatio(p.objects_done, p.objects_total) : null
  const ratio = done ? 1 : (byBytes ?? byObjects)
  const moving = op.status === 'running' || op.status === 'pending'
  const tone = done ? 'done' : op.status === 'failed' ? 'failed' : op.status === 'paused' || op.status === 'interrupted' ? 'paused' : ''
  const indeterminate = ratio === null && moving
  const pct = ratio === null ? 0 : Math.round(ratio * 1000) / 10

  return (
    <div className="stack tight" data-testid="operation-progress">
      <div className="row">
        <strong style={{ textTransform: 'capitalize' }} data-testid="progress-phase">
          {op.status === 'running' ? p?.phase || 'running' : op.status === 'pending' ? (p?.phase ? `${p.phase} (waiting for a worker)` : 'waiting for a worker') : op.status}
        </strong>
        <span className="spacer" />
        <span className="mono" data-testid="progress-percent">
          {ratio === null ? '' : `${pct}%`}
        </span>
      </div>
      <div
        className={`progress ${tone} ${indeterminate ? 'indeterminate' : ''}`}
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={ratio === null ? undefined : pct}
        data-testid="progress-bar"
        data-value={ratio === null ? '' : String(pct)}
      >
        <div className="bar" style={{ width: `${ratio === null ? 0 : pct}%` }} />
      </div>
      {p?.current && !terminal && (
        <div className="muted small truncate mono" title={p.current} data-testid="progress-current">
          {p.current}
        </div>
      )}
      <div className="metrics" style={{ marginTop: 6 }}>
        <Metric label="Objects" testid="progress-objects">
          {p ? `${formatCount(p.objects_done)}${p.objects_total ? ` / ${formatCount(p.objects_total)}` : ''}` : '—'}
        </Metric>
        <Metric label="Data read" testid="progress-bytes">
          {p ? `${formatBytes(p.bytes_done)}${p.bytes_total ? ` / ${formatBytes(p.bytes_total)}` : ''}` : '—'}
        </Metric>
        {op.kind === 'backup' && (
          <Metric label="Compressed / uploaded" testid="progress-uploaded">
            {p ? `${formatBytes(p.compressed_bytes)} / ${formatBytes(p.uploaded_bytes)}` : '—'}
          </Metric>
        )}
        <Metric label={terminal ? 'Average throughput' : 'Throughput'} testid="progress-throughput">
          {moving && p ? formatRate(p.bytes_per_second) : terminal ? formatRate(average) : '—'}
        </Metric>
        <Metric label="Time left" testid="progress-eta">
          {done ? 'done' : moving && p ? formatEta(p.seconds_left) : '—'}
        </Metric>
      </div>
    </div>
  )
}

function Metric({ label, children, testid }: { label: string; children: React.ReactNode; testid: string }) {
  return (
    <div className="metric">
      <div className="label">{label}</div>
      <div className="value" data-testid={testid}>
        {children}
      </div>
    </div>
  )
}

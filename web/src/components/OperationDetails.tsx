// The metadata panels of an operation: the archive of a backup, the target
// and verification report of a restore, and the error of a failed one.
import { useState, type ReactNode } from 'react'
import type { BackupResult, LogLine, Operation, RestoreReport } from '../api/types'
import { durationBetween, formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/format'
import { Link } from '../lib/router'
import { Icon } from './Icon'

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false)
  return (
    <button
      type="button"
      className="btn ghost sm"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true)
          window.setTimeout(() => setCopied(false), 1500)
        })
      }}
      aria-label={`${label} to clipboard`}
    >
      <Icon name={copied ? 'check' : 'file'} size={13} />
      {copied ? 'Copied' : label}
    </button>
  )
}

function Item({ label, children, testid }: { label: string; children: ReactNode; testid?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testid}>{children}</dd>
    </>
  )
}

export function OperationSummaryPanel({ op, now }: { op: Operation; now: number }) {
  const dur = durationBetween(op.started_at, op.finished_at, now)
  return (
    <section className="card" data-testid="operation-summary">
      <div className="card-head">
        <h2>Details</h2>
      </div>
      <div className="card-body">
        <dl className="kv">
          <Item label={op.kind === 'restore' ? 'Archive from' : 'Source'} testid="operation-source">
            {op.source?.id ? <Link to={`/connections/${op.source.id}`}>{op.source.name}</Link> : (op.source?.name ?? '—')}
          </Item>
          <Item label={op.kind === 'restore' ? 'Restored to' : 'Destination'} testid="operation-destination">
            {op.destination?.id ? <Link to={`/connections/${op.destination.id}`}>{op.destination.name}</Link> : (op.destination?.name ?? '—')}
          </Item>
          <Item label="Requested">
            {formatDateTime(op.requested_at)}
            {op.requested_by ? <span className="muted"> by {op.requested_by}</span> : null}
          </Item>
          <Item label="Started">{formatDateTime(op.started_at)}</Item>
          <Item label="Finished">{formatDateTime(op.finished_at)}</Item>
          <Item label="Duration">{dur === null ? '—' : formatDuration(dur)}</Item>
          {op.worker_id && (
            <Item label="Worker">
              <span className="mono">{op.worker_id}</span>
              {op.attempt ? <span className="muted"> · attempt {op.attempt}</span> : null}
            </Item>
          )}
          {op.heartbeat_at && !op.finished_at && <Item label="Heartbeat">{formatDateTime(op.heartbeat_at)}</Item>}
          {op.paused_position && (
            <Item label="Paused at" testid="operation-paused-position">
              {op.paused_position}
            </Item>
          )}
          {op.kind === 'restore' && op.restore?.backup_id && (
            <Item label="Backup">
              <Link to={`/operations/${op.restore.backup_id}`}>open the backup</Link>
            </Item>
          )}
        </dl>
      </div>
    </section>
  )
}

export function BackupResultPanel({ result }: { result: BackupResult }) {
  return (
    <section className="card" data-testid="backup-result">
      <div className="card-head">
        <h2>Archive</h2>
        <span className="badge success">
          <Icon name="check" size={12} /> stored
        </span>
      </div>
      <div className="card-body stack">
        <dl className="kv">
          <Item label="Name" testid="result-archive-name">
            <span className="mono break">{result.archive_name}</span>
          </Item>
          <Item label="Location" testid="result-archive-location">
            <span className="mono break">{result.archive_location}</span>
          </Item>
          <Item label="Size" testid="result-archive-size">
            {formatBytes(result.archive_size)} <span className="muted">compressed, from {formatBytes(result.total_bytes)}</span>
          </Item>
          <Item label="SHA-256" testid="result-archive-sha256">
            <span className="mono break">{result.archive_sha256}</span> <CopyButton text={result.archive_sha256} />
          </Item>
          <Item label={result.collections?.length || result.database ? 'Collections' : 'Objects'} testid="result-object-count">
            {formatCount(result.object_count)}
          </Item>
          {result.source_bucket && <Item label="Bucket">{result.source_bucket}</Item>}
          {result.database && <Item label="Database">{result.database}</Item>}
          <Item label="Manifest" testid="result-manifest-location">
            <span className="mono break">{result.manifest_location}</span>
          </Item>
          <Item label="Manifest SHA-256">
            <span className="mono break">{result.manifest_sha256}</span>
          </Item>
          <Item label="Format">
            <span className="mono">{result.format}</span>
          </Item>
          {result.mongodump_version && <Item label="mongodump">{result.mongodump_version}</Item>}
        </dl>
        {result.collections && result.collections.length > 0 && <CollectionsTable collections={result.collections} />}
      </div>
    </section>
  )
}

export function CollectionsTable({ collections }: { collections: { name: string; documents: number; bytes?: number }[] }) {
  return (
    <div className="table-wrap card" style={{ boxShadow: 'none' }}>
      <table className="table" data-testid="collections-table">
        <thead>
          <tr>
            <th>Collection</th>
            <th className="num">Documents</th>
            <th className="num">Size</th>
          </tr>
        </thead>
        <tbody>
          {collections.map((c) => (
            <tr key={c.name} data-testid="collection-row">
              <td className="mono">{c.name}</td>
              <td className="num">{formatCount(c.documents)}</td>
              <td className="num">{c.bytes === undefined ? '—' : formatBytes(c.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function RestoreTargetPanel({ op }: { op: Operation }) {
  const r = op.restore
  if (!r) return null
  const s = r.target.settings ?? {}
  return (
    <section className="card" data-testid="restore-target">
      <div className="card-head">
        <h2>Restore target</h2>
      </div>
      <div className="card-body">
        <dl className="kv">
          <Item label="Target">
            {r.target.connection_id ? <Link to={`/connections/${r.target.connection_id}`}>{r.target.name}</Link> : r.target.name || 'details typed in'}
          </Item>
          {s.bucket && <Item label="Bucket">{s.bucket}</Item>}
          {r.options.prefix !== undefined && r.options.prefix !== '' && (
            <Item label="Prefix">
              <span className="mono">{r.options.prefix}</span>
            </Item>
          )}
          {r.options.database && <Item label="Database">{r.options.database}</Item>}
          <Item label="Conflicts">{conflictLabel(r.options.conflict)}</Item>
          {r.options.overwrite_original && <Item label="Over the original">yes, confirmed</Item>}
        </dl>
      </div>
    </section>
  )
}

export function conflictLabel(c: string): string {
  switch (c) {
    case 'overwrite':
      return 'overwrite existing objects'
    case 'skip':
      return 'skip existing objects'
    case 'drop':
      return 'drop existing collections first'
    case 'insert':
      return 'insert alongside existing documents'
    default:
      return c || '—'
  }
}

export function RestoreReportPanel({ report }: { report: RestoreReport }) {
  const problems = (report.missing?.length ?? 0) + (report.mismatched?.length ?? 0)
  return (
    <section className="card" data-testid="restore-report" data-verified={report.verified ? 'true' : 'false'}>
      <div className="card-head">
        <h2>Verification</h2>
        {report.verified ? (
          <span className="badge success" data-testid="restore-verified">
            <Icon name="check" size={12} /> verified
          </span>
        ) : (
          <span className="badge danger" data-testid="restore-not-verified">
            <Icon name="x" size={12} /> differences found
          </span>
        )}
      </div>
      <div className="card-body stack">
        <div className={`alert ${report.verified ? 'success' : 'danger'}`} data-testid="restore-report-summary">
          <Icon name={report.verified ? 'checkCircle' : 'alertCircle'} />
          <div>{report.summary || (report.verified ? 'Every item was read back and matches the manifest.' : 'The restored data differs from the manifest.')}</div>
        </div>
        <div className="metrics">
          <div className="metric">
            <div className="label">Checked</div>
            <div className="value">{formatCount(report.checked)}</div>
          </div>
          <div className="metric">
            <div className="label">Restored</div>
            <div className="value">{formatCount(report.restored)}</div>
          </div>
          <div className="metric">
            <div className="label">Skipped</div>
            <div className="value">{formatCount(report.skipped)}</div>
          </div>
          <div className="metric">
            <div className="label">Problems</div>
            <div className="value" style={{ color: problems ? 'var(--danger)' : undefined }}>
              {formatCount(problems)}
            </div>
          </div>
        </div>
        {report.missing && report.missing.length > 0 && (
          <KeyList title="Missing" tone="danger" keys={report.missing} testid="restore-missing" />
        )}
        {report.mismatched && report.mismatched.length > 0 && (
          <div className="stack tight" data-testid="restore-mismatched">
            <h3 style={{ color: 'var(--danger)' }}>Different from the archive ({formatCount(report.mismatched.length)})</h3>
            <ul className="list-plain">
              {report.mismatched.map((m) => (
                <li key={m.key} className="small">
                  <span className="mono break">{m.key}</span> — <span className="muted">{m.reason}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
        {report.extra && report.extra.length > 0 && <KeyList title="Extra (present in the target, not in the archive)" tone="muted" keys={report.extra} testid="restore-extra" />}
        {report.collections && report.collections.length > 0 && (
          <div className="table-wrap card" style={{ boxShadow: 'none' }}>
            <table className="table" data-testid="restore-collections">
              <thead>
                <tr>
                  <th>Collection</th>
                  <th className="num">Expected</th>
                  <th className="num">Restored</th>
                  <th className="num">Hashes compared</th>
                  <th className="num">Mismatches</th>
                  <th className="num">Already there</th>
                  <th>Result</th>
                </tr>
              </thead>
              <tbody>
                {report.collections.map((c) => (
                  <tr key={c.name} data-testid="restore-collection-row" data-ok={c.ok ? 'true' : 'false'}>
                    <td className="mono">{c.name}</td>
                    <td className="num">{formatCount(c.expected_docs)}</td>
                    <td className="num">{formatCount(c.actual_docs)}</td>
                    <td className="num">{formatCount(c.hashes_compared)}</td>
                    <td className="num">{formatCount(c.hash_mismatches)}</td>
                    <td className="num" title="documents the target held besides the archive's; left alone">{formatCount(c.extra_docs ?? 0)}</td>
                    <td>{c.ok ? <span className="badge success">ok</span> : <span className="badge danger">differs</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {report.truncated && <p className="muted small">The lists above were cut for size; the log has the rest.</p>}
      </div>
    </section>
  )
}

function KeyList({ title, keys, tone, testid }: { title: string; keys: string[]; tone: 'danger' | 'muted'; testid: string }) {
  return (
    <div className="stack tight" data-testid={testid}>
      <h3 style={{ color: tone === 'danger' ? 'var(--danger)' : undefined }}>
        {title} ({formatCount(keys.length)})
      </h3>
      <ul className="list-plain">
        {keys.slice(0, 200).map((k) => (
          <li key={k} className="mono small break">
            {k}
          </li>
        ))}
      </ul>
      {keys.length > 200 && <p className="muted small">and {formatCount(keys.length - 200)} more</p>}
    </div>
  )
}

/** The last multi-line error message of the log: the stack trace when the
 * operation carries none itself. */
export function stackFromLog(lines: readonly LogLine[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]
    if (l.level.toLowerCase().startsWith('err') && l.message.includes('\n')) return l.message
  }
  return ''
}

export function ErrorPanel({ op, lines }: { op: Operation; lines: readonly LogLine[] }) {
  const stack = op.stack || stackFromLog(lines)
  return (
    <section className="card" data-testid="operation-error" style={{ borderColor: 'color-mix(in srgb, var(--danger) 40%, var(--border))' }}>
      <div className="card-head">
        <Icon name="alertCircle" style={{ color: 'var(--danger)' }} />
        <h2>{op.status === 'interrupted' ? 'Interrupted' : 'Failed'}</h2>
        {op.error_code && <span className="badge danger mono">{op.error_code}</span>}
      </div>
      <div className="card-body stack tight">
        <p data-testid="operation-error-message" style={{ color: 'var(--danger)', fontWeight: 500 }} className="break">
          {op.error || 'The operation failed.'}
        </p>
        {stack ? (
          <details open>
            <summary className="small muted" style={{ cursor: 'pointer', marginBottom: 8 }}>
              Stack trace
            </summary>
            <pre className="stack-trace" data-testid="operation-stack">
              {stack}
            </pre>
          </details>
        ) : (
          <p className="muted small">The log below has each step up to the failure.</p>
        )}
      </div>
    </section>
  )
}

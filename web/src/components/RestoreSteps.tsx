// The pieces of the restore wizard's steps.
import type { ReactNode } from 'react'
import type { Preflight, Service } from '../api/types'
import { formatBytes, formatCount, formatDuration } from '../lib/format'
import type { TargetMode } from '../lib/restore'
import { Icon } from './Icon'

export function Panel({ title, children, testid, action }: { title: string; children: ReactNode; testid: string; action?: ReactNode }) {
  return (
    <section className="card" data-testid={testid}>
      <div className="card-head">
        <h2>{title}</h2>
        {action}
      </div>
      <div className="card-body stack">{children}</div>
    </section>
  )
}

export function TargetOption({
  mode,
  current,
  onPick,
  title,
  children,
  testid,
  disabled,
}: {
  mode: TargetMode
  current: TargetMode
  onPick: (m: TargetMode) => void
  title: string
  children: ReactNode
  testid: string
  disabled?: boolean
}) {
  return (
    <label className={`choice ${current === mode ? 'selected' : ''}`} style={disabled ? { opacity: 0.6, cursor: 'not-allowed' } : undefined}>
      <input type="radio" name="target" checked={current === mode} onChange={() => onPick(mode)} disabled={disabled} data-testid={testid} />
      <div>
        <div className="title">{title}</div>
        <div className="muted small">{children}</div>
      </div>
    </label>
  )
}

export function ConfirmOriginal({ checked, onChange, error, service }: { checked: boolean; onChange: (v: boolean) => void; error?: string; service: Service }) {
  return (
    <div className="alert warning" style={{ flexDirection: 'column', gap: 8 }} data-testid="restore-confirm-original-box">
      <label className="check" style={{ color: 'var(--text)' }}>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid="restore-confirm-original" />
        <span>
          I understand this restores over the original {service === 's3' ? 'bucket' : 'database'}, where the backed-up data came from
          {service === 's3' ? ', and existing objects may be overwritten as chosen above.' : '.'}
        </span>
      </label>
      {error && <div className="field-error">{error}</div>}
    </div>
  )
}

export function PreflightView({ p, service }: { p: Preflight; service: Service }) {
  const sample = service === 'mongodb' ? (p.collections_existing ?? p.existing_sample ?? []) : (p.existing_sample ?? [])
  return (
    <div className="stack" data-testid="restore-preflight" data-writable={p.writable ? 'true' : 'false'}>
      {p.target && (
        <p className="muted" data-testid="preflight-target">
          Writes to <strong style={{ color: 'var(--text)' }}>{p.target}</strong>
        </p>
      )}
      <div className="check-item" data-testid="preflight-writable">
        <span className={`mark ${p.writable ? 'ok' : 'bad'}`}>
          <Icon name={p.writable ? 'check' : 'x'} size={13} />
        </span>
        <div>
          <strong>{p.writable ? 'The target is writable' : 'The target is not writable'}</strong>
          {p.writable_reason && <div className="small" style={{ color: p.writable ? undefined : 'var(--danger)' }}>{p.writable_reason}</div>}
        </div>
      </div>
      <div className="check-item" data-testid="preflight-existing" data-count={p.existing}>
        <span className={`mark ${p.existing ? 'warn' : 'ok'}`}>
          <Icon name={p.existing ? 'alert' : 'check'} size={13} />
        </span>
        <div style={{ minWidth: 0, flex: 1 }}>
          <strong>
            {p.existing === 0
              ? `Nothing in the target would be overwritten`
              : service === 's3'
                ? `${formatCount(p.existing)} ${p.existing === 1 ? 'key already exists' : 'keys already exist'} under the prefix`
                : `${formatCount(p.existing)} ${p.existing === 1 ? 'collection already exists' : 'collections already exist'} in the target database`}
          </strong>
          {sample.length > 0 && (
            <ul className="list-plain sample mono small" style={{ marginTop: 6 }} data-testid="preflight-sample">
              {sample.map((k) => (
                <li key={k} className="break">
                  {k}
                </li>
              ))}
              {p.existing > sample.length && <li className="muted">… and {formatCount(p.existing - sample.length)} more</li>}
            </ul>
          )}
        </div>
      </div>
      {p.same_as_original && (
        <div className="check-item" data-testid="preflight-same-as-original">
          <span className="mark warn">
            <Icon name="alert" size={13} />
          </span>
          <strong>This is the place the backup came from.</strong>
        </div>
      )}
      <div className="metrics">
        <div className="metric">
          <div className="label">{service === 's3' ? 'Objects' : 'Collections'}</div>
          <div className="value" data-testid="preflight-entries">
            {formatCount(p.entries)}
          </div>
        </div>
        <div className="metric">
          <div className="label">Data to write</div>
          <div className="value" data-testid="preflight-bytes">
            {formatBytes(p.bytes)}
          </div>
        </div>
        <div className="metric">
          <div className="label">Estimated time</div>
          <div className="value" data-testid="preflight-eta">
            about {formatDuration(p.estimated_seconds)}
          </div>
        </div>
      </div>
      {p.estimate_basis && <p className="muted small">Estimate: {p.estimate_basis}</p>}
    </div>
  )
}

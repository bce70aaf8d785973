// One operation: status, progress, the live terminal log, the actions the
// server allows now, and its metadata.
import { useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import type { OperationAction } from '../api/types'
import { OperationStatusBadge } from '../components/Badges'
import { ConfirmDialog } from '../components/Dialog'
import { Icon } from '../components/Icon'
import {
  BackupResultPanel,
  ErrorPanel as OperationErrorPanel,
  OperationSummaryPanel,
  RestoreReportPanel,
  RestoreTargetPanel,
} from '../components/OperationDetails'
import { OperationProgress } from '../components/OperationProgress'
import { ErrorPanel, PageHeader, SkeletonCard } from '../components/States'
import { TerminalLog } from '../components/TerminalLog'
import { useToast } from '../components/Toasts'
import { formatDateTime } from '../lib/format'
import { Link } from '../lib/router'
import { useNow } from '../lib/useAsync'
import { useOperationPoll } from '../lib/useOperationPoll'
import { useSession } from '../session'

const actionLabels: Record<OperationAction, string> = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' }

export function OperationPage({ id }: { id: string }) {
  const { pollSeconds } = useSession()
  const { op, setOp, buffer, live, error, refresh, loading } = useOperationPoll(id, pollSeconds)
  const [acting, setActing] = useState<OperationAction | null>(null)
  const [confirmCancel, setConfirmCancel] = useState(false)
  const toast = useToast()
  const now = useNow(5000)
  // An action takes effect at the worker's next safe point, usually within a
  // second or two: look again soon after it instead of a whole interval later.
  const followUps = useRef<number[]>([])
  useEffect(() => () => followUps.current.forEach((t) => window.clearTimeout(t)), [])
  const followUp = () => {
    for (const ms of [1500, 4000]) followUps.current.push(window.setTimeout(refresh, ms))
  }

  const act = async (action: OperationAction) => {
    setActing(action)
    try {
      const updated = await api.act(id, action)
      if (updated && updated.id) setOp(updated)
      toast.info(
        action === 'pause'
          ? 'Pausing at the next safe point; the log says where it stopped.'
          : action === 'resume'
            ? 'Resuming where it stopped.'
            : 'Cancelling and cleaning up.',
        `${actionLabels[action]} requested`,
      )
      refresh()
      followUp()
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e), `Could not ${action}`)
      refresh()
      throw e
    } finally {
      setActing(null)
    }
  }

  if (loading) {
    return (
      <>
        <PageHeader title="Operation" />
        <SkeletonCard lines={2} />
        <SkeletonCard lines={8} />
      </>
    )
  }
  if (!op) return <ErrorPanel message={error?.message ?? 'The operation could not be loaded.'} onRetry={refresh} />

  const allowed = new Set(op.allowed_actions ?? [])
  const title = op.kind === 'restore' ? `Restore into ${op.destination?.name ?? 'a target'}` : `Backup of ${op.source?.name ?? 'a source'}`
  const canRestore = allowed.has('restore') || (op.kind === 'backup' && op.status === 'completed')
  return (
    <>
      <PageHeader
        title={
          <span className="row wrap" style={{ gap: 12 }}>
            <span data-testid="operation-title">{title}</span>
            <OperationStatusBadge status={op.status} />
            {op.pause_requested && op.status !== 'paused' && <span className="badge warning" data-testid="operation-pause-requested">pause requested</span>}
            {op.cancel_requested && op.status !== 'cancelled' && <span className="badge warning" data-testid="operation-cancel-requested">cancel requested</span>}
          </span>
        }
        subtitle={
          <span>
            <Link to="/operations">History</Link> / {op.kind === 'restore' ? `from the archive on ${op.source?.name ?? '—'}` : `backup to ${op.destination?.name ?? '—'}`} · requested{' '}
            {formatDateTime(op.requested_at)}
          </span>
        }
        actions={
          <>
            {allowed.has('pause') && (
              <button className="btn" onClick={() => act('pause').catch(() => {})} disabled={acting !== null} data-testid="operation-pause">
                {acting === 'pause' ? <span className="spinner" /> : <Icon name="pause" size={14} />} Pause
              </button>
            )}
            {allowed.has('resume') && (
              <button className="btn primary" onClick={() => act('resume').catch(() => {})} disabled={acting !== null} data-testid="operation-resume">
                {acting === 'resume' ? <span className="spinner" /> : <Icon name="play" size={14} />} Resume
              </button>
            )}
            {allowed.has('cancel') && (
              <button className="btn" onClick={() => setConfirmCancel(true)} disabled={acting !== null} data-testid="operation-cancel" style={{ color: 'var(--danger)' }}>
                <Icon name="stop" size={14} /> Cancel
              </button>
            )}
            {canRestore && (
              <Link to={`/operations/${op.id}/restore`} className="btn primary" data-testid="operation-restore">
                <Icon name="restore" size={14} /> Restore
              </Link>
            )}
          </>
        }
      />

      {error && <ErrorPanel message={`Live updates failed: ${error.message}. Retrying every ${pollSeconds}s.`} onRetry={refresh} />}

      <section className="card">
        <div className="card-body">
          <OperationProgress op={op} />
        </div>
      </section>

      {(op.status === 'failed' || op.status === 'interrupted') && <OperationErrorPanel op={op} lines={buffer.lines} />}
      {op.report && <RestoreReportPanel report={op.report} />}

      <TerminalLog buffer={buffer} live={live} pollSeconds={pollSeconds} />

      <div className="grid details-grid">
        <OperationSummaryPanel op={op} now={now} />
        {op.result && <BackupResultPanel result={op.result} />}
        {op.kind === 'restore' && <RestoreTargetPanel op={op} />}
      </div>

      {confirmCancel && (
        <ConfirmDialog
          title={`Cancel this ${op.kind}?`}
          message={
            <>
              It stops at the next safe point
              {op.kind === 'backup' ? ', and the partial archive and temporary files are removed. The operation is marked cancelled.' : '. What was already restored stays in the target.'}
            </>
          }
          confirmLabel={`Cancel ${op.kind}`}
          cancelLabel="Keep running"
          onConfirm={() => act('cancel').catch(() => {})}
          onClose={() => setConfirmCancel(false)}
          testid="cancel-operation-dialog"
        />
      )}
    </>
  )
}

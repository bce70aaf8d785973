// Loading skeletons, empty states and error panels.
import type { ReactNode } from 'react'
import { Icon, type IconName } from './Icon'

export function Skeleton({ width = '100%', height = 14, style }: { width?: number | string; height?: number; style?: React.CSSProperties }) {
  return <span className="skeleton" style={{ width, height, ...style }} aria-hidden="true" />
}

export function SkeletonCard({ lines = 3 }: { lines?: number }) {
  return (
    <div className="card" aria-busy="true" data-testid="skeleton">
      <div className="card-body stack tight">
        <Skeleton width="45%" height={18} />
        {Array.from({ length: lines }, (_, i) => (
          <Skeleton key={i} width={`${85 - i * 15}%`} />
        ))}
      </div>
    </div>
  )
}

export function SkeletonRows({ rows = 5, cols = 5 }: { rows?: number; cols?: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} aria-hidden="true" data-testid="skeleton">
          {Array.from({ length: cols }, (_, c) => (
            <td key={c}>
              <Skeleton width={c === 0 ? '70%' : '50%'} />
            </td>
          ))}
        </tr>
      ))}
    </>
  )
}

export function EmptyState({
  icon = 'inbox',
  title,
  children,
  action,
  testid = 'empty-state',
}: {
  icon?: IconName
  title: string
  children?: ReactNode
  action?: ReactNode
  testid?: string
}) {
  return (
    <div className="empty" data-testid={testid}>
      <span className="empty-icon">
        <Icon name={icon} size={20} />
      </span>
      <h3>{title}</h3>
      {children && <p style={{ maxWidth: 420 }}>{children}</p>}
      {action}
    </div>
  )
}

export function ErrorPanel({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="alert danger" role="alert" data-testid="error-panel">
      <Icon name="alertCircle" />
      <div style={{ flex: 1 }}>{message}</div>
      {onRetry && (
        <button className="btn sm" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function PageHeader({ title, subtitle, actions, testid }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; testid?: string }) {
  return (
    <div className="page-head">
      <div className="titles">
        <h1 data-testid={testid ?? 'page-title'}>{title}</h1>
        {subtitle && <div className="muted">{subtitle}</div>}
      </div>
      {actions && <div className="actions">{actions}</div>}
    </div>
  )
}

import type { ReactNode } from 'react'
import { Icon } from '../components/Icon'

export function AuthCard({ title, subtitle, children, footer, testid }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode; testid: string }) {
  return (
    <div className="auth">
      <main className="auth-card" data-testid={testid}>
        <div className="brand">
          <span className="brand-mark">
            <Icon name="database" size={16} />
          </span>
          backupd
        </div>
        <div className="stack tight" style={{ gap: 6 }}>
          <h1>{title}</h1>
          {subtitle && <p className="muted">{subtitle}</p>}
        </div>
        {children}
        {footer && <div className="auth-foot">{footer}</div>}
      </main>
    </div>
  )
}

/** Only same-site paths are followed after login (no open redirect). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/'
  return next
}

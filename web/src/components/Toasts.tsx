// Toast notifications: short messages in the corner, dismissed by hand or
// after a few seconds (errors stay longer).
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react'
import { Icon, type IconName } from './Icon'

export type ToastKind = 'success' | 'error' | 'info' | 'warning'

interface Toast {
  id: number
  kind: ToastKind
  message: string
  title?: string
}

interface ToastApi {
  show: (kind: ToastKind, message: string, title?: string) => void
  success: (message: string, title?: string) => void
  error: (message: string, title?: string) => void
  info: (message: string, title?: string) => void
}

const ToastContext = createContext<ToastApi | null>(null)

const icons: Record<ToastKind, IconName> = {
  success: 'checkCircle',
  error: 'alertCircle',
  info: 'info',
  warning: 'alert',
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([])
  const next = useRef(1)

  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), [])

  const show = useCallback(
    (kind: ToastKind, message: string, title?: string) => {
      const id = next.current++
      setToasts((ts) => [...ts.slice(-4), { id, kind, message, title }])
      window.setTimeout(() => dismiss(id), kind === 'error' ? 9000 : 5000)
    },
    [dismiss],
  )

  const api = useMemo<ToastApi>(
    () => ({
      show,
      success: (m, t) => show('success', m, t),
      error: (m, t) => show('error', m, t),
      info: (m, t) => show('info', m, t),
    }),
    [show],
  )

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="region" aria-label="Notifications" data-testid="toasts">
        {toasts.map((t) => (
          <div
            key={t.id}
            className={`toast ${t.kind}`}
            role={t.kind === 'error' ? 'alert' : 'status'}
            data-testid="toast"
            data-kind={t.kind}
          >
            <span className="toast-icon">
              <Icon name={icons[t.kind]} size={18} />
            </span>
            <div className="toast-text">
              {t.title && <div className="toast-title">{t.title}</div>}
              <div data-testid="toast-message">{t.message}</div>
            </div>
            <button className="btn ghost sm icon" aria-label="Dismiss" onClick={() => dismiss(t.id)} data-testid="toast-dismiss">
              <Icon name="x" size={14} />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  )
}

export function useToast(): ToastApi {
  const t = useContext(ToastContext)
  if (!t) throw new Error('useToast outside ToastProvider')
  return t
}

// Modal dialogs: focus moves in and is trapped, Escape closes, focus goes
// back to where it was.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { createPortal } from 'react-dom'
import { Icon } from './Icon'

interface DialogProps {
  title: string
  onClose: () => void
  children: ReactNode
  footer?: ReactNode
  testid?: string
  icon?: ReactNode
  wide?: boolean
}

export function Dialog({ title, onClose, children, footer, testid, icon, wide }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null)
  const titleId = useId()

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null
    const el = ref.current
    const first =
      el?.querySelector<HTMLElement>('[data-autofocus]') ??
      el?.querySelector<HTMLElement>('.dialog-body input, .dialog-body select, .dialog-body textarea') ??
      el?.querySelector<HTMLElement>('.dialog-foot button:not([disabled])')
    first?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation()
        onClose()
      } else if (e.key === 'Tab' && el) {
        const focusable = Array.from(
          el.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'),
        )
        if (focusable.length === 0) return
        const a = focusable[0]
        const z = focusable[focusable.length - 1]
        if (e.shiftKey && document.activeElement === a) {
          e.preventDefault()
          z.focus()
        } else if (!e.shiftKey && document.activeElement === z) {
          e.preventDefault()
          a.focus()
        }
      }
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      previous?.focus?.()
    }
    // onClose may change identity each render; the listener only needs the latest.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  return createPortal(
    <div
      className="dialog-overlay"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose()
      }}
    >
      <div
        ref={ref}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testid ?? 'dialog'}
        style={wide ? { maxWidth: 620 } : undefined}
      >
        <div className="dialog-head">
          {icon}
          <h2 id={titleId} style={{ flex: 1, paddingTop: icon ? 7 : 0 }}>
            {title}
          </h2>
          <button className="btn ghost sm icon" aria-label="Close" onClick={onClose} data-testid="dialog-close">
            <Icon name="x" size={14} />
          </button>
        </div>
        <div className="dialog-body">{children}</div>
        {footer && <div className="dialog-foot">{footer}</div>}
      </div>
    </div>,
    document.body,
  )
}

interface ConfirmProps {
  title: string
  message: ReactNode
  confirmLabel: string
  onConfirm: () => Promise<unknown> | void
  onClose: () => void
  danger?: boolean
  testid?: string
  cancelLabel?: string
}

/** Asks before a destructive action; the confirm button shows progress. */
export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onClose, danger = true, testid = 'confirm-dialog', cancelLabel = 'Cancel' }: ConfirmProps) {
  const [busy, setBusy] = useState(false)
  const run = async () => {
    setBusy(true)
    try {
      await onConfirm()
      onClose()
    } catch {
      setBusy(false)
    }
  }
  return (
    <Dialog
      title={title}
      onClose={busy ? () => {} : onClose}
      testid={testid}
      icon={
        danger ? (
          <span className="dialog-icon">
            <Icon name="alert" size={18} />
          </span>
        ) : undefined
      }
      footer={
        <>
          <button className="btn" onClick={onClose} disabled={busy} data-testid="confirm-cancel" data-autofocus>
            {cancelLabel}
          </button>
          <button className={`btn ${danger ? 'danger' : 'primary'}`} onClick={run} disabled={busy} data-testid="confirm-ok">
            {busy && <span className="spinner" />}
            {confirmLabel}
          </button>
        </>
      }
    >
      <div>{message}</div>
    </Dialog>
  )
}

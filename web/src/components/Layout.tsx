// The app shell: left navigation, header with the quick action, theme toggle
// and user menu.
import { useEffect, useRef, useState, type ReactNode } from 'react'
import { api } from '../api/client'
import { Link, useLocation, useNavigate } from '../lib/router'
import { useTheme } from '../lib/theme'
import { useSession } from '../session'
import { useBackupNow } from './BackupNow'
import { Icon, type IconName } from './Icon'
import { useToast } from './Toasts'

const nav: { to: string; label: string; icon: IconName; testid: string; match: (p: string) => boolean }[] = [
  { to: '/', label: 'Dashboard', icon: 'dashboard', testid: 'nav-dashboard', match: (p) => p === '/' },
  { to: '/connections', label: 'Connections', icon: 'plug', testid: 'nav-connections', match: (p) => p.startsWith('/connections') },
  { to: '/operations', label: 'History', icon: 'history', testid: 'nav-history', match: (p) => p.startsWith('/operations') },
  { to: '/audit', label: 'Audit log', icon: 'shield', testid: 'nav-audit', match: (p) => p.startsWith('/audit') },
]

export function Layout({ children }: { children: ReactNode }) {
  const { pathname } = useLocation()
  const [navOpen, setNavOpen] = useState(false)
  const backupNow = useBackupNow()

  useEffect(() => setNavOpen(false), [pathname])

  return (
    <div className={`shell ${navOpen ? 'nav-open' : ''}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main navigation" data-testid="sidebar">
        <Link to="/" className="brand" data-testid="brand">
          <span className="brand-mark">
            <Icon name="database" size={16} />
          </span>
          backupd
        </Link>
        <nav className="stack tight" style={{ gap: 2 }}>
          {nav.map((n) => {
            const active = n.match(pathname)
            return (
              <Link key={n.to} to={n.to} className={`nav-link ${active ? 'active' : ''}`} aria-current={active ? 'page' : undefined} data-testid={n.testid}>
                <Icon name={n.icon} />
                {n.label}
              </Link>
            )
          })}
          <div className="nav-section">Settings</div>
          <Link
            to="/account"
            className={`nav-link ${pathname === '/account' ? 'active' : ''}`}
            aria-current={pathname === '/account' ? 'page' : undefined}
            data-testid="nav-account"
          >
            <Icon name="user" />
            Account
          </Link>
        </nav>
        <div className="sidebar-footer">Backups you can prove.</div>
      </aside>
      <div className="backdrop" onClick={() => setNavOpen(false)} />
      <div className="main">
        <header className="header">
          <button className="btn ghost icon menu-toggle" aria-label="Open navigation" onClick={() => setNavOpen((o) => !o)} data-testid="menu-toggle">
            <Icon name="menu" />
          </button>
          <span className="spacer" />
          {pathname !== '/' && (
            <button className="btn primary" onClick={() => backupNow.open()} data-testid="header-backup-now">
              <Icon name="upload" />
              <span>Back up now</span>
            </button>
          )}
          <ThemeToggle />
          <UserMenu />
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  )
}

function ThemeToggle() {
  const { effective, toggle } = useTheme()
  const label = effective === 'dark' ? 'Switch to light mode' : 'Switch to dark mode'
  return (
    <button className="btn ghost icon" onClick={toggle} aria-label={label} title={label} data-testid="theme-toggle" data-theme-now={effective}>
      <Icon name={effective === 'dark' ? 'sun' : 'moon'} />
    </button>
  )
}

function initials(name: string, email: string) {
  const src = name.trim() || email
  const parts = src.split(/[\s@._-]+/).filter(Boolean)
  return ((parts[0]?.[0] ?? '?') + (parts[1]?.[0] ?? '')).toUpperCase()
}

function UserMenu() {
  const { user, setUser } = useSession()
  const [open, setOpen] = useState(false)
  const ref = useRef<HTMLDivElement>(null)
  const navigate = useNavigate()
  const toast = useToast()

  useEffect(() => {
    if (!open) return
    const onDoc = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false)
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false)
    }
    document.addEventListener('mousedown', onDoc)
    document.addEventListener('keydown', onKey)
    ref.current?.querySelector<HTMLElement>('.menu-item')?.focus()
    return () => {
      document.removeEventListener('mousedown', onDoc)
      document.removeEventListener('keydown', onKey)
    }
  }, [open])

  const logout = async () => {
    try {
      await api.logout()
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e), 'Could not log out')
      return
    }
    setUser(null)
    navigate('/login', { replace: true })
  }

  if (!user) return null
  return (
    <div className="user-menu" ref={ref}>
      <button className="user-button" onClick={() => setOpen((o) => !o)} aria-haspopup="menu" aria-expanded={open} data-testid="user-menu-button">
        <span className="avatar">{initials(user.name, user.email)}</span>
        <span className="user-name">{user.name || user.email}</span>
        <Icon name="chevronDown" size={14} />
      </button>
      {open && (
        <div className="menu" role="menu" data-testid="user-menu">
          <div className="menu-head">
            <div style={{ fontWeight: 600 }}>{user.name || 'Administrator'}</div>
            <div className="muted small" data-testid="user-email">
              {user.email}
            </div>
          </div>
          <Link to="/account" className="menu-item" role="menuitem" onClick={() => setOpen(false)} data-testid="menu-account">
            <Icon name="user" /> Account
          </Link>
          <button className="menu-item" role="menuitem" onClick={logout} data-testid="logout">
            <Icon name="logout" /> Log out
          </button>
        </div>
      )}
    </div>
  )
}

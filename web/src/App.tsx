import { useEffect, type ReactNode } from 'react'
import { api, loginRedirect, unauthorizedTarget } from './api/client'
import { BackupNowProvider } from './components/BackupNow'
import { Layout } from './components/Layout'
import { Skeleton } from './components/States'
import { ToastProvider } from './components/Toasts'
import { ThemeProvider } from './lib/theme'
import { RouterProvider, Routes, navigateTo, useLocation, type RouteDef } from './lib/router'
import { AccountPage } from './pages/Account'
import { AuditPage } from './pages/Audit'
import { ForgotPasswordPage, ResetPasswordPage } from './pages/PasswordReset'
import { ConnectionFormPage } from './pages/ConnectionForm'
import { ConnectionsPage } from './pages/Connections'
import { DashboardPage } from './pages/Dashboard'
import { HistoryPage } from './pages/History'
import { LoginPage } from './pages/Login'
import { NotFoundPage } from './pages/NotFound'
import { OperationPage } from './pages/Operation'
import { RestoreWizardPage } from './pages/RestoreWizard'
import { SessionProvider, useSession } from './session'

const publicRoutes: RouteDef[] = [
  { path: '/login', render: () => <LoginPage /> },
  { path: '/forgot-password', render: () => <ForgotPasswordPage /> },
  { path: '/reset-password', render: () => <ResetPasswordPage /> },
]

const appRoutes: RouteDef[] = [
  { path: '/', render: () => <DashboardPage /> },
  { path: '/connections', render: () => <ConnectionsPage /> },
  { path: '/connections/new', render: () => <ConnectionFormPage /> },
  { path: '/connections/:id', render: (p) => <ConnectionFormPage key={p.id} id={p.id} /> },
  { path: '/operations', render: () => <HistoryPage /> },
  { path: '/operations/:id', render: (p) => <OperationPage key={p.id} id={p.id} /> },
  { path: '/operations/:id/restore', render: (p) => <RestoreWizardPage key={p.id} id={p.id} /> },
  { path: '/audit', render: () => <AuditPage /> },
  { path: '/account', render: () => <AccountPage /> },
]

export function App() {
  return (
    <ThemeProvider>
    <ToastProvider>
      <RouterProvider>
        <SessionProvider>
          <BackupNowProvider>
            <Root />
          </BackupNowProvider>
        </SessionProvider>
      </RouterProvider>
    </ToastProvider>
    </ThemeProvider>
  )
}

function Root() {
  const { pathname } = useLocation()
  const isPublic = publicRoutes.some((r) => r.path === pathname)
  const { setUser } = useSession()

  useEffect(() => {
    api.setUnauthorizedHandler((code) => {
      setUser(null)
      const target = unauthorizedTarget(code, window.location.pathname, window.location.search)
      if (target) navigateTo(target, { replace: true })
    })
  }, [setUser])

  if (isPublic) return <Routes routes={publicRoutes} fallback={null} />
  return (
    <RequireSession>
      <Layout>
        <Routes routes={appRoutes} fallback={<NotFoundPage />} />
      </Layout>
    </RequireSession>
  )
}

function RequireSession({ children }: { children: ReactNode }) {
  const { loading, user, error, refresh, session } = useSession()
  const { pathname, search } = useLocation()
  const expired = Boolean(session?.session_expired)

  useEffect(() => {
    if (!loading && !error && !user) navigateTo(loginRedirect(expired ? 'session-expired' : 'unauthenticated', pathname + search), { replace: true })
  }, [loading, error, user, pathname, search, expired])

  if (error && !user) {
    return (
      <div className="auth">
        <div className="auth-card" role="alert" data-testid="server-unreachable">
          <h1>Cannot reach backupd</h1>
          <p className="muted">{error}</p>
          <button className="btn primary" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </div>
    )
  }
  if (loading || !user) {
    return (
      <div className="auth" aria-busy="true">
        <div style={{ width: 320 }} className="stack tight">
          <Skeleton height={18} width="50%" />
          <Skeleton />
          <Skeleton width="70%" />
        </div>
      </div>
    )
  }
  return <>{children}</>
}

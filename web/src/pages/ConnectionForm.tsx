// New and edit connection: the kind's fields from its spec, checked by the
// server by connecting before anything is stored; errors beside their field.
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { api, isApiError } from '../api/client'
import type { Connection, KindSpec } from '../api/types'
import { CheckedAt, ConnectionStatusBadge } from '../components/Badges'
import { ConnectionFields, editableFields, emptyValues, missingRequired, toInput, type ConnectionValues } from '../components/ConnectionFields'
import { ConfirmDialog } from '../components/Dialog'
import { FormError, SubmitButton, TextField, type FieldErrors } from '../components/Fields'
import { Icon, serviceIcon } from '../components/Icon'
import { ErrorPanel, PageHeader, SkeletonCard } from '../components/States'
import { useToast } from '../components/Toasts'
import { formatBytes, formatDateTime } from '../lib/format'
import { serviceLabel, useKinds } from '../lib/kinds'
import { Link, useNavigate, useSearchParams } from '../lib/router'
import { useNow } from '../lib/useAsync'

export function ConnectionFormPage({ id }: { id?: string }) {
  const { kinds, error: kindsError } = useKinds()
  const [params, setParams] = useSearchParams()
  const [conn, setConn] = useState<Connection>()
  const [loadError, setLoadError] = useState('')
  const toast = useToast()
  const announced = useRef(false)

  useEffect(() => {
    if (!id) return
    api.connection(id).then(setConn, (e) => setLoadError(e instanceof Error ? e.message : String(e)))
  }, [id])

  // A failed reconnect comes back to /connections/new with the connection's
  // id: show the error on that connection's page instead.
  const navigate = useNavigate()
  const reconnectOf = !id ? params.get('connection_id') : null
  useEffect(() => {
    if (!reconnectOf) return
    const q = new URLSearchParams()
    const error = params.get('error')
    if (error) q.set('error', error)
    navigate(`/connections/${encodeURIComponent(reconnectOf)}${q.size ? `?${q}` : ''}`, { replace: true })
  }, [reconnectOf, params, navigate])

  // The Google consent flow comes back here with ?connected=1 or ?error=...
  useEffect(() => {
    if (announced.current || reconnectOf) return
    const connected = params.get('connected')
    const error = params.get('error')
    if (!connected && !error) return
    announced.current = true
    if (connected === '1') toast.success('Google Drive is connected and the folder is ready.', 'Connected')
    if (error) toast.error(error, 'Google Drive was not connected')
    const rest = new URLSearchParams(params)
    rest.delete('connected')
    rest.delete('error')
    const qs = rest.toString()
    setParams(qs ? `?${qs}` : '', { replace: true })
  }, [params, setParams, toast, reconnectOf])

  if (kindsError || loadError) return <ErrorPanel message={loadError || kindsError!.message} />
  if (!kinds || (id && !conn)) {
    return (
      <>
        <PageHeader title={id ? 'Edit connection' : 'New connection'} />
        <SkeletonCard lines={6} />
      </>
    )
  }

  const kindName = conn?.kind ?? params.get('kind') ?? ''
  const spec = kinds.find((k) => k.kind === kindName)
  if (!spec) return <KindPicker kinds={kinds} />
  return <ConnectionEditor key={spec.kind + (conn?.id ?? '')} spec={spec} conn={conn} onSaved={setConn} />
}

function KindPicker({ kinds }: { kinds: KindSpec[] }) {
  const [, setParams] = useSearchParams()
  const groups: { role: 'source' | 'destination'; title: string; help: string }[] = [
    { role: 'source', title: 'Sources', help: 'What gets backed up.' },
    { role: 'destination', title: 'Destinations', help: 'Where archives are stored.' },
  ]
  return (
    <>
      <PageHeader title="New connection" subtitle="What do you want to connect?" />
      {groups.map((g) => (
        <section key={g.role} className="stack tight" aria-label={g.title}>
          <h2>
            {g.title} <span className="muted small">— {g.help}</span>
          </h2>
          <div className="grid cols-3">
            {kinds
              .filter((k) => k.role === g.role)
              .map((k) => (
                <button
                  key={k.kind}
                  className="card choice"
                  style={{ textAlign: 'left', font: 'inherit', color: 'inherit' }}
                  onClick={() => setParams(`?kind=${k.kind}`)}
                  data-testid={`kind-${k.kind}`}
                >
                  <span className={`service-icon ${k.service}`}>
                    <Icon name={serviceIcon(k.service)} size={18} />
                  </span>
                  <span>
                    <span className="title" style={{ display: 'block' }}>
                      {k.label}
                    </span>
                    <span className="muted small">
                      {serviceLabel[k.service]} {k.role}
                    </span>
                  </span>
                </button>
              ))}
          </div>
        </section>
      ))}
    </>
  )
}

function ConnectionEditor({ spec, conn, onSaved }: { spec: KindSpec; conn?: Connection; onSaved: (c: Connection) => void }) {
  const navigate = useNavigate()
  const toast = useToast()
  const now = useNow()
  const [name, setName] = useState(conn?.name ?? '')
  const [values, setValues] = useState<ConnectionValues>(() => emptyValues(spec, conn?.settings))
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const [checking, setChecking] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const isDrive = spec.service === 'gdrive'
  const fieldNames = useMemo(() => ['name', ...editableFields(spec).map((f) => f.name)], [spec])

  const applyError = (err: unknown) => {
    if (isApiError(err) && err.field && fieldNames.includes(err.field)) {
      setErrors({ [err.field]: err.message })
      setFormError('')
      document.querySelector<HTMLElement>(`[data-field="${err.field}"] input, [data-field="${err.field}"] select`)?.focus()
    } else {
      setErrors({})
      setFormError(err instanceof Error ? err.message : String(err))
    }
  }

  const validate = (): boolean => {
    const errs = missingRequired(spec, values, conn?.secrets_set)
    if (!name.trim()) errs.name = 'Give the connection a name you will recognise.'
    setErrors(errs)
    setFormError('')
    return Object.keys(errs).length === 0
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // A new Drive folder is created through Google's consent, not a POST.
    if (isDrive && !conn) return connectGoogle()
    if (!validate()) return
    setBusy(true)
    try {
      const body = { name: name.trim(), ...toInput(spec, values) }
      const saved = conn ? await api.updateConnection(conn.id, body) : await api.createConnection({ kind: spec.kind, ...body })
      toast.success(`${saved.name} was checked and saved.`, conn ? 'Connection updated' : 'Connection created')
      onSaved(saved)
      navigate('/connections')
    } catch (err) {
      applyError(err)
      setBusy(false)
    }
  }

  const connectGoogle = async () => {
    if (!validate()) return
    setBusy(true)
    try {
      const { authorize_url } = await api.authorizeDrive({
        name: name.trim(),
        folder_name: (values.settings.folder_name ?? '').trim(),
        connection_id: conn?.id,
      })
      window.location.assign(authorize_url)
    } catch (err) {
      applyError(err)
      setBusy(false)
    }
  }

  const recheck = async () => {
    if (!conn) return
    setChecking(true)
    try {
      const c = await api.checkConnection(conn.id)
      onSaved(c)
      if (c.status === 'valid') toast.success(`${c.name} is reachable.`, 'Check passed')
      else toast.error(c.status_reason || 'The check failed.', `${c.name} failed its check`)
    } catch (err) {
      toast.error(err instanceof Error ? err.message : String(err), 'Could not run the check')
    } finally {
      setChecking(false)
    }
  }

  const remove = async () => {
    if (!conn) return
    try {
      await api.deleteConnection(conn.id)
      toast.success(`${conn.name} was deleted.`)
      navigate('/connections')
    } catch (err) {
      toast.error(err instanceof Error ? err.message : String(err), isApiError(err) && err.code === 'connection-in-use' ? 'Cannot delete' : 'Delete failed')
    }
  }

  const managed = spec.fields.filter((f) => f.managed)
  return (
    <>
      <PageHeader
        title={conn ? conn.name : `New ${spec.label} ${spec.role}`}
        subtitle={
          <span className="row wrap">
            <Link to="/connections">Connections</Link> / {spec.label} ({serviceLabel[spec.service]} {spec.role})
          </span>
        }
        actions={
          conn && (
            <>
              <button className="btn" onClick={recheck} disabled={checking} data-testid="connection-recheck">
                {checking ? <span className="spinner" /> : <Icon name="refresh" />} Re-check
              </button>
              <button className="btn" onClick={() => setDeleting(true)} data-testid="connection-delete">
                <Icon name="trash" /> Delete
              </button>
            </>
          )
        }
      />
      <div className="grid split">
        <form className="card" onSubmit={submit} noValidate data-testid="connection-form" data-kind={spec.kind}>
          <div className="card-body form">
            <TextField
              name="name"
              label="Name"
              value={name}
              onChange={setName}
              error={errors.name}
              required
              placeholder={spec.role === 'source' ? 'e.g. Production uploads' : 'e.g. Offsite archives'}
              help="Shown in lists and in the history."
              autoFocus={!conn}
            />
            <ConnectionFields spec={spec} values={values} onChange={setValues} errors={errors} secretsSet={conn?.secrets_set} />
            {isDrive && (
              <div className="alert info">
                <Icon name="info" />
                <div>
                  {conn?.secrets_set?.refresh_token
                    ? 'This folder is connected. Connect again to use another Google account or to replace a revoked access.'
                    : 'Google asks you to allow access to your Drive. You come back here when done; the folder is created if it does not exist.'}
                </div>
              </div>
            )}
            <FormError message={formError} />
          </div>
          <div className="card-foot">
            <Link to="/connections" className="btn ghost" data-testid="connection-cancel">
              Cancel
            </Link>
            {isDrive ? (
              <>
                {conn && (
                  <SubmitButton busy={busy} className="" testid="submit">
                    Save
                  </SubmitButton>
                )}
                <button type="button" className="btn primary" onClick={connectGoogle} disabled={busy} data-testid="gdrive-connect">
                  {busy ? <span className="spinner" /> : <Icon name="google" />}
                  {conn ? 'Reconnect with Google' : 'Connect with Google'}
                </button>
              </>
            ) : (
              <SubmitButton busy={busy} testid="submit">
                {busy ? 'Checking connection…' : conn ? 'Check and save' : 'Check and create'}
              </SubmitButton>
            )}
          </div>
        </form>
        <aside className="stack">
          {conn && (
            <section className="card" data-testid="connection-status-panel">
              <div className="card-head">
                <h2>Status</h2>
                <ConnectionStatusBadge status={conn.status} />
              </div>
              <div className="card-body stack tight">
                {conn.status === 'invalid' && conn.status_reason && (
                  <div className="reason" data-testid="connection-status-reason">
                    {conn.status_field ? <strong>{conn.status_field}: </strong> : null}
                    {conn.status_reason}
                  </div>
                )}
                <CheckedAt conn={conn} now={now} />
                <dl className="kv small">
                  {managed
                    .filter((f) => f.type !== 'secret')
                    .map((f) => (
                      <Managed key={f.name} label={f.label} value={conn.settings[f.name] || conn.details?.[f.name]} />
                    ))}
                  {managed
                    .filter((f) => f.type === 'secret')
                    .map((f) => (
                      <Managed key={f.name} label={f.label} value={conn.secrets_set?.[f.name] ? 'set' : 'not set'} />
                    ))}
                  {Object.entries(conn.details ?? {})
                    .filter(([k]) => !managed.some((f) => f.name === k))
                    .map(([k, v]) => (
                      <Managed key={k} label={sentence(k)} value={v} />
                    ))}
                  <Managed label="Created" value={formatDateTime(conn.created_at)} />
                  <Managed label="Updated" value={formatDateTime(conn.updated_at)} />
                </dl>
              </div>
            </section>
          )}
          <section className="card">
            <div className="card-body stack tight small muted">
              <div className="row" style={{ color: 'var(--text)', fontWeight: 600 }}>
                <Icon name="key" /> How credentials are kept
              </div>
              <p>Secrets are encrypted before they are stored and are never shown again. On edit, leave a secret blank to keep the one stored.</p>
              <p>Saving checks the connection first; nothing is stored if the check fails.</p>
            </div>
          </section>
        </aside>
      </div>
      {deleting && conn && (
        <ConfirmDialog
          title={`Delete ${conn.name}?`}
          message="The connection and its stored credentials are removed. Archives already written stay where they are."
          confirmLabel="Delete connection"
          onConfirm={remove}
          onClose={() => setDeleting(false)}
          testid="delete-connection-dialog"
        />
      )}
    </>
  )
}

function Managed({ label, value }: { label: string; value?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="break">{displayValue(label, value)}</dd>
    </>
  )
}

/** Times and byte counts from the server's details, readable. */
export function displayValue(label: string, value?: string): string {
  if (!value) return '—'
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) return formatDateTime(value)
  if (/quota|bytes|size/i.test(label) && /^\d+$/.test(value)) return formatBytes(Number(value))
  return value
}

function sentence(key: string): string {
  const s = key.replace(/_/g, ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

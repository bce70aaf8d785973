// Restore wizard: 1 what is in the archive (manifest, without downloading
// it), 2 where it goes, 3 preflight and conflict handling, 4 start.
import { useEffect, useMemo, useState } from 'react'
import { api, isApiError } from '../api/client'
import type { Connection, KindSpec, Manifest, Operation, Preflight, Service } from '../api/types'
import { ConnectionStatusBadge } from '../components/Badges'
import { ConnectionFields, emptyValues, missingRequired, toInput, type ConnectionValues } from '../components/ConnectionFields'
import { FormError, SelectField, TextField, type FieldErrors } from '../components/Fields'
import { Icon } from '../components/Icon'
import { ManifestView } from '../components/ManifestView'
import { CollectionsTable, conflictLabel } from '../components/OperationDetails'
import { ConfirmOriginal, Panel, PreflightView, TargetOption } from '../components/RestoreSteps'
import { ErrorPanel, PageHeader, Skeleton, SkeletonCard } from '../components/States'
import { useToast } from '../components/Toasts'
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/format'
import { loadKinds } from '../lib/kinds'
import { buildRestoreRequest, conflictsFor, defaultConflict, overOriginal, startBlocker, targetProblems, type RestoreChoice } from '../lib/restore'
import { Link, useNavigate } from '../lib/router'

const STEPS = ['Archive', 'Target', 'Check', 'Start']

interface Loaded {
  op: Operation
  spec: KindSpec
  connections: Connection[]
}

export function RestoreWizardPage({ id }: { id: string }) {
  const [loaded, setLoaded] = useState<Loaded>()
  const [error, setError] = useState('')
  const [manifest, setManifest] = useState<Manifest>()
  const [manifestError, setManifestError] = useState('')

  useEffect(() => {
    let live = true
    Promise.all([api.operation(id), loadKinds(), api.connections('source')]).then(
      ([op, kinds, connections]) => {
        if (!live) return
        const spec = kinds.find((k) => k.kind === op.source?.kind)
        if (!spec) {
          setError(`This backup's source kind (${op.source?.kind ?? 'unknown'}) cannot be restored from here.`)
          return
        }
        setLoaded({ op, spec, connections })
      },
      (e) => live && setError(e instanceof Error ? e.message : String(e)),
    )
    api.manifest(id).then(
      (m) => live && setManifest(m),
      (e) => live && setManifestError(e instanceof Error ? e.message : String(e)),
    )
    return () => {
      live = false
    }
  }, [id])

  if (error) return <ErrorPanel message={error} />
  if (!loaded) {
    return (
      <>
        <PageHeader title="Restore" />
        <SkeletonCard lines={6} />
      </>
    )
  }
  const { op } = loaded
  if (op.kind !== 'backup' || op.status !== 'completed' || !op.result) {
    return (
      <>
        <PageHeader title="Restore" />
        <div className="alert warning" data-testid="restore-unavailable">
          <Icon name="alert" />
          <div>
            Only a completed backup can be restored; this operation is a {op.kind} that is {op.status}. <Link to={`/operations/${op.id}`}>Back to the operation</Link>
          </div>
        </div>
      </>
    )
  }
  return <Wizard {...loaded} manifest={manifest} manifestError={manifestError} />
}

function Wizard({ op, spec, connections, manifest, manifestError }: Loaded & { manifest?: Manifest; manifestError: string }) {
  const result = op.result!
  const service = spec.service as Service
  const originalDatabase = result.database ?? ''
  const navigate = useNavigate()
  const toast = useToast()
  const [step, setStep] = useState(0)
  const [choice, setChoice] = useState<RestoreChoice>(() => ({
    // The original can only be chosen while its connection still exists.
    mode: connections.some((c) => c.id === op.source.id) ? 'original' : 'typed',
    originalId: op.source.id ?? '',
    connectionId: '',
    kind: spec.kind,
    typed: { settings: {}, secrets: {} },
    prefix: '',
    database: '',
    conflict: defaultConflict(service),
    confirmOriginal: false,
  }))
  const [typed, setTyped] = useState<ConnectionValues>(() => emptyValues(spec))
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [preflight, setPreflight] = useState<Preflight | null>(null)
  const [checking, setChecking] = useState(false)
  const [starting, setStarting] = useState(false)

  const others = useMemo(() => connections.filter((c) => c.kind === op.source.kind && c.id !== op.source.id), [connections, op.source])
  const original = connections.find((c) => c.id === op.source.id)
  const needsConfirm = overOriginal(choice, service, originalDatabase, preflight)
  const typedOnly = (f: { name: string }) => !(service === 'mongodb' && f.name === 'database')

  const update = (change: Partial<RestoreChoice>) => {
    setChoice((c) => ({ ...c, ...change }))
    setPreflight(null)
  }

  const request = () => {
    const c: RestoreChoice = { ...choice, typed: toInput(spec, typed) }
    if (c.mode === 'typed' && service === 'mongodb') {
      c.typed = { ...c.typed, settings: { ...c.typed.settings, database: choice.database.trim() || originalDatabase } }
    }
    return buildRestoreRequest(c, service)
  }

  const fieldNames = ['connection_id', 'prefix', 'database', 'conflict', 'overwrite_original', ...spec.fields.map((f) => f.name)]
  const applyError = (e: unknown): number | null => {
    if (isApiError(e) && e.field && fieldNames.includes(e.field)) {
      setErrors({ [e.field]: e.message })
      setFormError('')
      // Target details live on step 2; the confirmation on step 3.
      return e.field === 'conflict' || e.field === 'overwrite_original' ? 2 : 1
    }
    setErrors({})
    setFormError(e instanceof Error ? e.message : String(e))
    return null
  }

  const runPreflight = async () => {
    setChecking(true)
    setFormError('')
    setErrors({})
    try {
      setPreflight(await api.preflight(op.id, request()))
    } catch (e) {
      setPreflight(null)
      const back = applyError(e)
      if (back === 1) setStep(1)
    } finally {
      setChecking(false)
    }
  }

  const next = () => {
    if (step === 1) {
      const errs: FieldErrors = { ...targetProblems(choice, service) }
      if (choice.mode === 'typed') {
        Object.assign(errs, missingRequired({ ...spec, fields: spec.fields.filter(typedOnly) }, typed))
        if (service === 'mongodb' && !choice.database.trim()) errs.database = 'Name the database to restore into.'
      }
      setErrors(errs)
      setFormError('')
      if (Object.keys(errs).length) return
      setStep(2)
      void runPreflight()
      return
    }
    setStep((s) => Math.min(3, s + 1))
  }

  const start = async () => {
    setStarting(true)
    setFormError('')
    try {
      const { id } = await api.restore(op.id, request())
      toast.success('The restore is queued and will start in a moment.', 'Restore started')
      navigate(`/operations/${id}`)
    } catch (e) {
      const back = applyError(e)
      if (back !== null) setStep(back)
      setStarting(false)
    }
  }

  const blocker = startBlocker(preflight, needsConfirm, choice.confirmOriginal)
  const targetName =
    choice.mode === 'original'
      ? `${op.source.name} (the original)`
      : choice.mode === 'connection'
        ? (others.find((c) => c.id === choice.connectionId)?.name ?? '—')
        : service === 's3'
          ? `bucket ${typed.settings.bucket || '—'}`
          : 'the MongoDB server typed in'

  return (
    <div className="wizard" data-testid="restore-wizard" data-step={step + 1}>
      <PageHeader
        title={`Restore ${op.source.name}`}
        subtitle={
          <span>
            <Link to={`/operations/${op.id}`}>Backup of {formatDateTime(result.finished_at || op.finished_at)}</Link> · {formatBytes(result.archive_size)} on {op.destination.name}
          </span>
        }
      />
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li
            key={s}
            className={`step ${i === step ? 'current' : i < step ? 'done' : ''}`}
            aria-current={i === step ? 'step' : undefined}
            data-testid={`restore-step-${i + 1}`}
            data-state={i === step ? 'current' : i < step ? 'done' : 'todo'}
          >
            <span className="num">{i < step ? <Icon name="check" size={13} /> : i + 1}</span>
            {s}
          </li>
        ))}
      </ol>

      {step === 0 && (
        <Panel title="What is in the archive" testid="restore-panel-archive">
          <dl className="kv" data-testid="restore-archive-facts">
            <dt>Source</dt>
            <dd data-testid="restore-fact-source">
              {op.source.name} <span className="muted">({result.source_bucket ? `bucket ${result.source_bucket}` : result.database ? `database ${result.database}` : op.source.kind})</span>
            </dd>
            <dt>Taken</dt>
            <dd data-testid="restore-fact-timestamp">{formatDateTime(result.finished_at || op.finished_at)}</dd>
            <dt>Archive size</dt>
            <dd data-testid="restore-fact-size">
              {formatBytes(result.archive_size)} <span className="muted">compressed; {formatBytes(result.total_bytes)} of data</span>
            </dd>
            <dt>{service === 'mongodb' ? 'Collections' : 'Objects'}</dt>
            <dd data-testid="restore-fact-count">{formatCount(result.object_count)}</dd>
            <dt>Archive</dt>
            <dd className="mono small break">{result.archive_location}</dd>
            <dt>SHA-256</dt>
            <dd className="mono small break">{result.archive_sha256}</dd>
          </dl>
          {result.collections && result.collections.length > 0 && <CollectionsTable collections={result.collections} />}
          <h3 style={{ marginTop: 8 }}>Manifest</h3>
          <p className="muted small">Read from {result.manifest_location || 'the destination'}, beside the archive; the archive itself is not downloaded.</p>
          {manifest ? (
            <ManifestView manifest={manifest} />
          ) : manifestError ? (
            <div className="alert warning" data-testid="restore-manifest-error">
              <Icon name="alert" />
              <div>The manifest could not be read: {manifestError}. The restore can still go ahead; the archive's own manifest is checked when it is read.</div>
            </div>
          ) : (
            <div className="stack tight" aria-busy="true">
              <Skeleton />
              <Skeleton width="70%" />
            </div>
          )}
        </Panel>
      )}

      {step === 1 && (
        <Panel title="Where should the data go?" testid="restore-panel-target">
          <div className="choice-list" role="radiogroup" aria-label="Restore target">
            <TargetOption
              mode="original"
              current={choice.mode}
              onPick={(m) => update({ mode: m })}
              title="The original source"
              testid="restore-target-original"
              disabled={!original}
            >
              {op.source.name} {original && <ConnectionStatusBadge status={original.status} testid="restore-original-status" />}
              {!original && <span className="muted"> (deleted; choose another target)</span>}
            </TargetOption>
            <TargetOption
              mode="connection"
              current={choice.mode}
              onPick={(m) => update({ mode: m })}
              title={`Another ${spec.label}`}
              testid="restore-target-connection"
              disabled={others.length === 0}
            >
              {others.length === 0 ? 'No other connection of this kind.' : `${others.length} connection${others.length === 1 ? '' : 's'} of the same kind`}
            </TargetOption>
            <TargetOption mode="typed" current={choice.mode} onPick={(m) => update({ mode: m })} title="Details typed in" testid="restore-target-typed">
              {service === 's3' ? 'A bucket and the credentials to write to it.' : 'A connection URI and a database name.'} They are checked by connecting, and stored encrypted.
            </TargetOption>
          </div>
          {choice.mode === 'connection' && (
            <SelectField
              name="connection_id"
              label="Connection"
              value={choice.connectionId}
              onChange={(v) => update({ connectionId: v })}
              placeholder="Choose a connection…"
              options={others.map((c) => ({ value: c.id, label: `${c.name}${c.status === 'invalid' ? ' — invalid' : ''}` }))}
              error={errors.connection_id}
              required
              testid="restore-connection-select"
            />
          )}
          {choice.mode === 'typed' && (
            <ConnectionFields
              spec={spec}
              values={typed}
              onChange={(v) => {
                setTyped(v)
                setPreflight(null)
              }}
              errors={errors}
              testidPrefix="restore-"
              only={typedOnly}
            />
          )}
          {service === 's3' ? (
            <TextField
              name="prefix"
              label="Key prefix in the target bucket"
              value={choice.prefix}
              onChange={(v) => update({ prefix: v })}
              placeholder="empty: the objects' own keys"
              help="For example restored/2026-11-27/; every key from the archive is written under it."
              error={errors.prefix}
              testid="restore-prefix"
            />
          ) : (
            <TextField
              name="database"
              label="Database to restore into"
              value={choice.database}
              onChange={(v) => update({ database: v })}
              placeholder={choice.mode === 'typed' ? 'e.g. shop_restored' : `empty: ${originalDatabase || "the connection's database"}`}
              help={`The archive holds the database ${originalDatabase || '(unknown)'}; its collections are mapped to this one.`}
              error={errors.database}
              required={choice.mode === 'typed'}
              testid="restore-database"
            />
          )}
          {choice.mode === 'original' && needsConfirm && (
            <div className="alert warning" data-testid="restore-original-warning">
              <Icon name="alert" />
              <div>This writes over the very {service === 's3' ? 'bucket and keys' : 'database'} the backup came from. You will be asked to confirm before it starts.</div>
            </div>
          )}
          <FormError message={formError} />
        </Panel>
      )}

      {step === 2 && (
        <Panel
          title="Check before restoring"
          testid="restore-panel-preflight"
          action={
            <button className="btn sm" onClick={runPreflight} disabled={checking} data-testid="restore-preflight-run">
              {checking ? <span className="spinner" /> : <Icon name="refresh" size={14} />} Check again
            </button>
          }
        >
          {checking && !preflight ? (
            <div className="stack tight" aria-busy="true" data-testid="restore-preflight-loading">
              <p className="muted">Connecting to {targetName} and counting what is already there…</p>
              <Skeleton />
              <Skeleton width="80%" />
              <Skeleton width="60%" />
            </div>
          ) : preflight ? (
            <PreflightView p={preflight} service={service} />
          ) : null}
          <FormError message={formError} testid="restore-preflight-error" />
          {preflight && (
            <div className="stack tight">
              <h3>When {service === 's3' ? 'a key already exists' : 'a collection already exists'}</h3>
              <div className="choice-list" role="radiogroup" aria-label="Conflict handling">
                {conflictsFor(service).map((c) => (
                  <label key={c.value} className={`choice ${choice.conflict === c.value ? 'selected' : ''}`}>
                    <input
                      type="radio"
                      name="conflict"
                      value={c.value}
                      checked={choice.conflict === c.value}
                      onChange={() => setChoice((x) => ({ ...x, conflict: c.value }))}
                      data-testid={`restore-conflict-${c.value}`}
                    />
                    <div>
                      <div className="title">{c.label}</div>
                      <div className="muted small">{c.help}</div>
                    </div>
                  </label>
                ))}
              </div>
              {errors.conflict && <div className="field-error">{errors.conflict}</div>}
            </div>
          )}
          {preflight && needsConfirm && (
            <ConfirmOriginal checked={choice.confirmOriginal} onChange={(v) => setChoice((x) => ({ ...x, confirmOriginal: v }))} error={errors.overwrite_original} service={service} />
          )}
        </Panel>
      )}

      {step === 3 && (
        <Panel title="Ready to restore" testid="restore-panel-start">
          <dl className="kv" data-testid="restore-summary">
            <dt>Archive</dt>
            <dd>
              {op.source.name}, {formatDateTime(result.finished_at || op.finished_at)} ({formatBytes(result.archive_size)})
            </dd>
            <dt>Target</dt>
            <dd data-testid="restore-summary-target">{targetName}</dd>
            {service === 's3' && (
              <>
                <dt>Prefix</dt>
                <dd className="mono">{choice.prefix.trim() || '(none: original keys)'}</dd>
              </>
            )}
            {service === 'mongodb' && (
              <>
                <dt>Database</dt>
                <dd className="mono">{choice.database.trim() || originalDatabase}</dd>
              </>
            )}
            <dt>Conflicts</dt>
            <dd>{conflictLabel(choice.conflict)}</dd>
            {preflight && (
              <>
                <dt>Estimate</dt>
                <dd>
                  {formatCount(preflight.entries)} {service === 's3' ? 'objects' : 'collections'}, {formatBytes(preflight.bytes)}, about {formatDuration(preflight.estimated_seconds)}
                </dd>
              </>
            )}
          </dl>
          {needsConfirm && (
            <ConfirmOriginal checked={choice.confirmOriginal} onChange={(v) => setChoice((x) => ({ ...x, confirmOriginal: v }))} error={errors.overwrite_original} service={service} />
          )}
          <p className="muted small">When it finishes, every restored item is read back and compared with the manifest; the report shows on the restore's page.</p>
          <FormError message={formError} testid="restore-start-error" />
        </Panel>
      )}

      <div className="wizard-nav">
        {step === 0 ? (
          <Link to={`/operations/${op.id}`} className="btn ghost" data-testid="restore-back">
            Cancel
          </Link>
        ) : (
          <button className="btn ghost" onClick={() => setStep((s) => s - 1)} data-testid="restore-back">
            <Icon name="chevronLeft" size={14} /> Back
          </button>
        )}
        {step < 3 ? (
          <button
            className="btn primary"
            onClick={next}
            disabled={step === 2 && (checking || !preflight || !preflight.writable || (needsConfirm && !choice.confirmOriginal))}
            title={step === 2 ? blocker : undefined}
            data-testid="restore-next"
          >
            {step === 1 ? 'Check the target' : 'Next'} <Icon name="chevronRight" size={14} />
          </button>
        ) : (
          <button className="btn primary" onClick={start} disabled={starting || Boolean(blocker)} title={blocker || undefined} data-testid="restore-start">
            {starting ? <span className="spinner" /> : <Icon name="restore" size={14} />} Start restore
          </button>
        )}
      </div>
    </div>
  )
}

// "Back up now": choose a source and a destination, start, go to the
// operation's page. Opened from the header, the dashboard and connection cards.
import { createContext, useCallback, useContext, useMemo, useState, type FormEvent, type ReactNode } from 'react'
import { api } from '../api/client'
import type { Connection } from '../api/types'
import { useNavigate } from '../lib/router'
import { useAsync } from '../lib/useAsync'
import { Dialog } from './Dialog'
import { FormError, SelectField, SubmitButton, placeError, type FieldErrors } from './Fields'
import { Icon } from './Icon'
import { Skeleton } from './States'
import { useToast } from './Toasts'

interface Preset {
  sourceId?: string
  destinationId?: string
}

const Ctx = createContext<{ open: (p?: Preset) => void } | null>(null)

export function BackupNowProvider({ children }: { children: ReactNode }) {
  const [preset, setPreset] = useState<Preset | null>(null)
  const open = useCallback((p: Preset = {}) => setPreset(p), [])
  const value = useMemo(() => ({ open }), [open])
  return (
    <Ctx.Provider value={value}>
      {children}
      {preset && <BackupNowDialog preset={preset} onClose={() => setPreset(null)} />}
    </Ctx.Provider>
  )
}

export function useBackupNow() {
  const c = useContext(Ctx)
  if (!c) throw new Error('useBackupNow outside BackupNowProvider')
  return c
}

function label(c: Connection) {
  const state = c.status === 'invalid' ? ' — invalid' : c.status === 'unchecked' ? ' — not yet checked' : ''
  return `${c.name} (${c.service === 'gdrive' ? 'Google Drive' : c.service === 'mongodb' ? 'MongoDB' : 'S3'})${state}`
}

function BackupNowDialog({ preset, onClose }: { preset: Preset; onClose: () => void }) {
  const conns = useAsync(() => api.connections(), [])
  const sources = (conns.data ?? []).filter((c) => c.role === 'source')
  const destinations = (conns.data ?? []).filter((c) => c.role === 'destination')
  const [sourceId, setSourceId] = useState(preset.sourceId ?? '')
  const [destinationId, setDestinationId] = useState(preset.destinationId ?? '')
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const navigate = useNavigate()
  const toast = useToast()

  const src = sourceId || (sources.length === 1 ? sources[0].id : '')
  const dst = destinationId || (destinations.length === 1 ? destinations[0].id : '')
  const chosen = [sources.find((c) => c.id === src), destinations.find((c) => c.id === dst)].filter(Boolean) as Connection[]
  const invalid = chosen.filter((c) => c.status === 'invalid')

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs: FieldErrors = {}
    if (!src) errs.source_id = 'Choose what to back up.'
    if (!dst) errs.destination_id = 'Choose where the archive goes.'
    setErrors(errs)
    setFormError('')
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      const { id } = await api.startBackup(src, dst)
      toast.success('The backup is queued and will start in a moment.', 'Backup started')
      onClose()
      navigate(`/operations/${id}`)
    } catch (err) {
      const placed = placeError(err, ['source_id', 'destination_id'])
      setErrors(placed.fieldErrors)
      setFormError(placed.formError)
      setBusy(false)
    }
  }

  const empty = conns.data && (sources.length === 0 || destinations.length === 0)

  return (
    <Dialog title="Back up now" onClose={onClose} testid="backup-now-dialog">
      {conns.loading && !conns.data ? (
        <div className="stack tight">
          <Skeleton height={36} />
          <Skeleton height={36} />
        </div>
      ) : conns.error ? (
        <FormError message={conns.error.message} />
      ) : empty ? (
        <div className="alert info" data-testid="backup-now-missing">
          <Icon name="info" />
          <div>
            A backup needs at least one source and one destination.{' '}
            <a
              href="/connections/new"
              onClick={(e) => {
                e.preventDefault()
                onClose()
                navigate('/connections/new')
              }}
            >
              Add a connection
            </a>
            .
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={submit} id="backup-now-form" noValidate>
          <SelectField
            name="source_id"
            label="Source"
            value={src}
            onChange={setSourceId}
            placeholder="Choose a source…"
            options={sources.map((c) => ({ value: c.id, label: label(c) }))}
            error={errors.source_id}
            required
            testid="backup-source"
          />
          <SelectField
            name="destination_id"
            label="Destination"
            value={dst}
            onChange={setDestinationId}
            placeholder="Choose a destination…"
            options={destinations.map((c) => ({ value: c.id, label: label(c) }))}
            error={errors.destination_id}
            required
            testid="backup-destination"
          />
          {invalid.length > 0 && (
            <div className="alert warning">
              <Icon name="alert" />
              <div>
                {invalid.map((c) => c.name).join(' and ')} failed its last check
                {invalid[0].status_reason ? `: ${invalid[0].status_reason}` : ''}. The backup will probably fail.
              </div>
            </div>
          )}
          <FormError message={formError} />
          <div className="row" style={{ justifyContent: 'flex-end' }}>
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <SubmitButton busy={busy} testid="backup-start">
              <Icon name="play" size={14} /> Start backup
            </SubmitButton>
          </div>
        </form>
      )}
    </Dialog>
  )
}

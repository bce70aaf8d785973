// Formatting of sizes, durations, rates and times for display.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** 1536 → "1.5 KiB"; binary units, as the storage world counts. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  if (n < 0) return '—'
  if (n < 1024) return `${Math.round(n)} B`
  let i = 0
  let v = n
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${trimZeros(v.toFixed(digits))} ${UNITS[i]}`
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s
}

/** Bytes per second → "12.5 MiB/s". */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || bytesPerSecond <= 0 || !Number.isFinite(bytesPerSecond)) return '—'
  return `${formatBytes(bytesPerSecond)}/s`
}

/** Seconds → "1h 2m", "3m 4s", "12s", "0s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`
  if (m > 0) return sec ? `${m}m ${sec}s` : `${m}m`
  return `${sec}s`
}

/** Time left: -1 (or absent) means unknown. */
export function formatEta(secondsLeft: number | null | undefined): string {
  if (secondsLeft === null || secondsLeft === undefined || secondsLeft < 0 || !Number.isFinite(secondsLeft)) {
    return 'estimating…'
  }
  if (secondsLeft < 1) return 'almost done'
  return `${formatDuration(secondsLeft)} left`
}

/** Duration between two RFC 3339 times (end defaults to now). */
export function durationBetween(start?: string | null, end?: string | null, now: number = Date.now()): number | null {
  if (!start) return null
  const a = Date.parse(start)
  const b = end ? Date.parse(end) : now
  if (Number.isNaN(a) || Number.isNaN(b)) return null
  return Math.max(0, (b - a) / 1000)
}

/** "3 min ago", "in 2 h", "just now". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return '—'
  const diff = Math.round((now - t) / 1000)
  const abs = Math.abs(diff)
  const suffix = (v: string) => (diff >= 0 ? `${v} ago` : `in ${v}`)
  if (abs < 10) return 'just now'
  if (abs < 60) return suffix(`${abs} s`)
  if (abs < 3600) return suffix(`${Math.floor(abs / 60)} min`)
  if (abs < 86400) return suffix(`${Math.floor(abs / 3600)} h`)
  const days = Math.floor(abs / 86400)
  if (days < 30) return suffix(days === 1 ? '1 day' : `${days} days`)
  return formatDateTime(iso)
}

/** "2026-11-27 14:03:09" in local time; sortable and unambiguous. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** "2026-11-27 14:03" for tables; the full time goes in a tooltip. */
export function formatDateTimeShort(iso: string | null | undefined): string {
  const full = formatDateTime(iso)
  return full.length > 16 ? full.slice(0, 16) : full
}

/** "14:03:09.123" for terminal lines. */
export function formatClock(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '--:--:--'
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

function pad(n: number) {
  return String(n).padStart(2, '0')
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  return Math.round(n).toLocaleString('en-US')
}

/** Progress ratio 0..1, or null when the total is unknown. */
export function progressRatio(done: number, total: number): number | null {
  if (!total || total <= 0) return null
  return Math.min(1, Math.max(0, done / total))
}

/** Shortens a long hash: "ab12cd…9f". */
export function shortHash(h: string | null | undefined, keep = 12): string {
  if (!h) return '—'
  return h.length <= keep + 4 ? h : `${h.slice(0, keep)}…${h.slice(-4)}`
}

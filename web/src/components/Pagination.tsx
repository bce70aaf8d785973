import { pageCount } from '../lib/filters'
import { formatCount } from '../lib/format'
import { Icon } from './Icon'

export function Pagination({
  page,
  perPage,
  total,
  onPage,
  testid = 'pagination',
}: {
  page: number
  perPage: number
  total: number
  onPage: (p: number) => void
  testid?: string
}) {
  const pages = pageCount(total, perPage)
  const first = total === 0 ? 0 : (page - 1) * perPage + 1
  const last = Math.min(total, page * perPage)
  return (
    <nav className="pager" aria-label="Pagination" data-testid={testid}>
      <span data-testid={`${testid}-summary`}>
        {total === 0 ? 'No results' : `${formatCount(first)}–${formatCount(last)} of ${formatCount(total)}`}
      </span>
      <span className="spacer" />
      <button className="btn sm" onClick={() => onPage(page - 1)} disabled={page <= 1} data-testid={`${testid}-prev`}>
        <Icon name="chevronLeft" size={14} /> Previous
      </button>
      <span data-testid={`${testid}-page`}>
        Page {page} of {pages}
      </span>
      <button className="btn sm" onClick={() => onPage(page + 1)} disabled={page >= pages} data-testid={`${testid}-next`}>
        Next <Icon name="chevronRight" size={14} />
      </button>
    </nav>
  )
}

import { EmptyState } from '../components/States'
import { Link } from '../lib/router'

export function NotFoundPage() {
  return (
    <div className="card">
      <EmptyState icon="alertCircle" title="Page not found" testid="not-found" action={<Link to="/">Go to the dashboard</Link>}>
        There is nothing at this address.
      </EmptyState>
    </div>
  )
}

import { Link } from 'react-router';
import { EmptyState } from '@/components/ui/empty-state';

/** Any path the app does not know. */
export function NotFoundPage() {
  return (
    <>
      <title>Not found · Telemetry</title>
      <EmptyState title="There is no page here">
        <Link to="/" className="text-sky-700 underline dark:text-sky-400">
          Go to the fleet
        </Link>
      </EmptyState>
    </>
  );
}

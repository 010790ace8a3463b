/**
 * Shapes of endpoints that the backend's schema does not describe yet, written by hand from
 * their contract. Once `make api-types` generates them into api.generated.ts, export that
 * name from api.ts instead and delete the one here.
 */

/** One minute of GET /api/stats/ingest-rate/ (the last 60 minutes, oldest first). */
export interface IngestRateMinute {
  /** The minute's start, ISO 8601 UTC. */
  minute: string;
  /** Readings stored in that minute. */
  stored: number;
}

/** GET /api/stats/summary/: the fleet's totals, without listing devices. */
export interface FleetSummary {
  devices: number;
  online: number;
  offline: number;
  alerts_active: number;
}

import type { SqlContext } from '@mdmkit/storage/sql';
import type { PgDatabase } from './pool';

/** What every operation module needs: the pool, limits and the coalescing state. */
export type Ctx = SqlContext<PgDatabase>;

export { bytes, date, optionalDate, optionalText, pageLimit } from '@mdmkit/storage/sql';

import type { SqlContext } from '@mdmkit/storage/sql';
import type { MyDatabase } from './pool';

/** What every operation module needs: the pool, limits and the coalescing state. */
export type Ctx = SqlContext<MyDatabase>;

export { bytes, date, optionalDate, optionalText, pageLimit } from '@mdmkit/storage/sql';

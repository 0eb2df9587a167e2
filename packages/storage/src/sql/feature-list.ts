// The feature list every SQL dialect registers: which features exist, in which order, and the names of
// their versions. Names are stored in the migrations table, so they are written once, here.
import type { FeatureMigrations, SqlFeature } from './features';

const firstVersionNames: Readonly<Record<SqlFeature, string>> = {
  dep: 'tokens, devices, assignments',
  secrets: 'sealed secrets',
  audit: 'audit events',
  outbox: 'event outbox',
  lifecycle: 'declaration sets, DDM status, identity certificates, blocks',
};

/**
 * A dialect's feature migrations from its statements for version 1 of each feature.
 *
 * @example
 * ```ts
 * export const myFeatureMigrations = featureMigrationsOf({ dep, secrets, audit, outbox, lifecycle });
 * ```
 */
export function featureMigrationsOf<C>(
  firstVersion: Readonly<Record<SqlFeature, C>>,
): FeatureMigrations<C>[] {
  return (Object.keys(firstVersionNames) as SqlFeature[]).map((feature) => ({
    feature,
    migrations: [{ version: 1, name: firstVersionNames[feature], up: firstVersion[feature] }],
  }));
}

// One child process of the multi-process conformance cases: its own pool on the shared schema.
import { serveStorageChild } from '@mdmkit/storage/conformance';
import { postgresTestUrl } from '@mdmkit/test-support';
import { createPostgresStorage } from '../src/index';

await serveStorageChild(() =>
  createPostgresStorage({ url: postgresTestUrl(), schema: process.env.MDMKIT_PG_SCHEMA!, poolSize: 2 }),
);

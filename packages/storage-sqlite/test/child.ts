// One child process of the multi-process conformance cases: its own adapter on the shared file.
import { serveStorageChild } from '@mdmkit/storage/conformance';
import { createSqliteStorage } from '../src/index';

await serveStorageChild(() => createSqliteStorage({ path: process.env.MDMKIT_SQLITE_PATH! }));

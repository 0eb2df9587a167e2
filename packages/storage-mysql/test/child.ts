// One child process of the multi-process conformance cases: its own pool on the shared database.
import { serveStorageChild } from '@mdmkit/storage/conformance';
import { createMysqlStorage } from '../src/index';
import { urlFor } from './peer';

await serveStorageChild(() =>
  createMysqlStorage({ url: urlFor(process.env.MDMKIT_MYSQL_DATABASE!), poolSize: 2 }),
);

import { serverScenario } from './scenario';

serverScenario('SQLite (the embedded default)', () => []);

import { runDepStoreConformance } from '../src/conformance/index';
import { MemoryDepStore } from '../src/index';

runDepStoreConformance('memory', async () => new MemoryDepStore());

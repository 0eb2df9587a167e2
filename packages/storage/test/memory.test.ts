import { MemoryStorage } from '../src/index';
import { runStorageConformance } from '../src/conformance/index';

runStorageConformance('memory', async () => {
  const root = new MemoryStorage();
  return {
    open: async (o) => {
      const h = root.openHandle(o ?? {});
      if (o?.migrate !== false) await h.migrate();
      return h;
    },
  };
});

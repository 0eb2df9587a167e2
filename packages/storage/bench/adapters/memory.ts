import { MemoryStorage } from '../../src/index';
import type { BenchAdapter } from '../types';

export const adapter: BenchAdapter = {
  name: 'memory',
  maxHandles: 1,
  describe: () => 'in-process maps, no durability (reference for the adapters below)',
  async create() {
    const root = new MemoryStorage();
    return { open: async () => root.openHandle(), destroy: async () => {} };
  },
};

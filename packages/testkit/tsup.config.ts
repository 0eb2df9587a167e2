import { defineConfig } from 'tsup';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/mock-apns.ts',
    'src/virtual-device.ts',
    'src/mock-dep.ts',
    'src/fleet.ts',
    'src/bin.ts',
  ],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
});

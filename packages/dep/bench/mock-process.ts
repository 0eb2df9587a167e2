// Runs the mock DEP service in its own process, so the syncer measured has the event loop and the
// RSS figure to itself.
import { startMockDep } from '@mdmkit/testkit/mock-dep';

process.once('disconnect', () => process.exit(0));

process.once('message', async (msg: { devices: number }) => {
  const mock = await startMockDep({ devices: msg.devices });
  process.send?.({ url: mock.url, credentials: mock.credentials });
  process.on('message', async (m: string) => {
    if (m === 'stop') {
      await mock.close();
      process.exit(0);
    }
  });
});

// Runs the mock APNs servers in their own process, so that the clients measured do not share an
// event loop with the server they talk to.
import { startMockApns } from '@mdmkit/testkit/mock-apns';

interface Start {
  key: string;
  cert: string;
  maxConcurrentStreams: number;
}

// Never outlive the bench, even when it crashes.
process.once('disconnect', () => process.exit(0));

process.once('message', async (msg: Start) => {
  const common = {
    key: msg.key,
    cert: msg.cert,
    maxConcurrentStreams: msg.maxConcurrentStreams,
    record: false,
  };
  const withCert = await startMockApns({ ...common, requireClientCert: true });
  const withoutCert = await startMockApns({ ...common, requireClientCert: false });
  process.send?.({ withCert: withCert.port, withoutCert: withoutCert.port });
  process.on('message', async (m: string) => {
    if (m === 'stats') process.send?.({ withCert: withCert.stats, withoutCert: withoutCert.stats });
    // CPU time of this process (both mocks), so that the bench can report the server's cost per push.
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ cpuMs: (u.user + u.system) / 1000 });
    }
    if (m === 'stop') {
      await withCert.close();
      await withoutCert.close();
      process.exit(0);
    }
  });
});

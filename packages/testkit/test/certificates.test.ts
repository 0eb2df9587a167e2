import http2 from 'node:http2';
import { createMockApnsCertificates, startMockApns } from '@mdmkit/testkit/mock-apns';
import { describe, expect, it } from 'vitest';

describe('createMockApnsCertificates', () => {
  it('issues a server certificate clients trust and push certificates the mock reads the topic of', async () => {
    const pki = await createMockApnsCertificates();
    const push = await pki.issuePushCertificate();
    expect(push.topic).toMatch(/^com\.apple\.mgmt\.External\.[0-9a-f-]{36}$/);
    expect(push.certificate.subjectUid).toBe(push.topic);
    const expired = await pki.issuePushCertificate({ days: -1 });
    expect(expired.certificate.notAfter.getTime()).toBeLessThan(Date.now());
    const mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const session = http2.connect(mock.origin, { ca: pki.caPem, key: push.keyPem, cert: push.certPem });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': `/3/device/${'01'.repeat(32)}` });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end('{"mdm":"x"}');
      });
      expect(status).toBe(200);
      expect(mock.requests[0]?.clientTopic).toBe(push.topic);
    } finally {
      session.destroy();
      await mock.close();
    }
  });
});

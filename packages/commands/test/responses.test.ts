import { buildXml, type PlistDict } from '@mdmkit/plist';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkinSchemas, decodeCheckin } from '@mdmkit/protocol';
import { decodeReportFor, getCommand, listRequestTypes } from '../src/index';
import { arbitraryFor, fuzzRuns } from './arbitrary';

const withResponse = listRequestTypes().filter((rt) => getCommand(rt).response);
const bare = listRequestTypes().filter((rt) => !getCommand(rt).response);

describe('response schemas (property-based)', () => {
  it('35 commands have response keys, 31 answer with the bare report', () => {
    expect(withResponse).toHaveLength(35);
    expect(bare).toHaveLength(31);
  });

  for (const rt of withResponse) {
    it(`${rt}: a generated report round-trips through XML and validates`, () => {
      const schema = getCommand(rt).response!;
      fc.assert(
        fc.property(arbitraryFor(schema), (response) => {
          const report = {
            ...(response as PlistDict),
            CommandUUID: 'CMD-1',
            Status: 'Acknowledged',
            UDID: 'UDID-1',
          } as PlistDict;
          const decoded = decodeReportFor(rt, buildXml(report));
          expect(decoded.envelope.Status).toBe('Acknowledged');
          expect(decoded.response).toEqual(report);
        }),
        { numRuns: fuzzRuns, seed: 7 },
      );
    });
  }

  it('commands without response keys decode to the bare report', () => {
    for (const rt of bare) {
      const r = decodeReportFor(rt, buildXml({ CommandUUID: 'c', Status: 'Acknowledged', UDID: 'u' }));
      expect(r.response).toBeUndefined();
      expect(r.requestType).toBe(rt);
    }
  });
});

describe('check-in schemas (property-based)', () => {
  for (const [type, schema] of Object.entries(checkinSchemas)) {
    it(`${type}: a generated message round-trips through XML and decodeCheckin`, () => {
      fc.assert(
        fc.property(arbitraryFor(schema), (message) => {
          const dict = { ...(message as PlistDict), UDID: 'UDID-1' } as PlistDict;
          delete dict.UserID;
          delete dict.EnrollmentID;
          const decoded = decodeCheckin(buildXml(dict));
          expect(decoded.messageType).toBe(type);
          expect(decoded.message).toEqual(dict);
          expect(decoded.enrollment.id).toBe('UDID-1');
        }),
        { numRuns: fuzzRuns, seed: 11 },
      );
    });
  }
});

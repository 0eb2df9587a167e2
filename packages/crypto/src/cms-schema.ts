// Schema classes for the CMS structures @peculiar/asn1-cms does not define: AuthEnvelopedData
// (RFC 5083) and the AES-GCM parameters (RFC 5084). The library encodes them; only the field lists
// are written here.
import {
  Attribute,
  CMSVersion,
  EncryptedContentInfo,
  OriginatorInfo,
  RecipientInfos,
} from '@peculiar/asn1-cms';
import { AsnArray, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { encodedAnyConverter, fields, serializeAsn1 } from './asn1';

/** GCMParameters: the nonce and the tag length in octets (default 12). @internal */
export class GcmParameters {
  nonce = new OctetString();
  icvLength = 12;
}
fields(GcmParameters, [
  ['nonce', { type: OctetString }],
  ['icvLength', { type: AsnPropTypes.Integer, defaultValue: 12 }],
]);

/** AuthEnvelopedData (RFC 5083 §2.1). @internal */
export class AuthEnvelopedData {
  version = CMSVersion.v0;
  originatorInfo?: OriginatorInfo;
  recipientInfos = new RecipientInfos();
  authEncryptedContentInfo = new EncryptedContentInfo();
  authAttrs?: Attribute[];
  mac = new OctetString();
  unauthAttrs?: Attribute[];
}
fields(AuthEnvelopedData, [
  ['version', { type: AsnPropTypes.Integer }],
  ['originatorInfo', { type: OriginatorInfo, context: 0, implicit: true, optional: true }],
  ['recipientInfos', { type: RecipientInfos }],
  ['authEncryptedContentInfo', { type: EncryptedContentInfo }],
  ['authAttrs', { type: Attribute, context: 1, implicit: true, optional: true, repeated: 'set' }],
  ['mac', { type: OctetString }],
  ['unauthAttrs', { type: Attribute, context: 2, implicit: true, optional: true, repeated: 'set' }],
]);

/**
 * SET OF Attribute on its own: the encoding a SignerInfo's signature covers (its `[0] IMPLICIT`
 * signedAttrs with the universal SET tag, RFC 5652 §5.4). @internal
 */
export class AttributeSet extends AsnArray<Attribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

/**
 * ContentInfo around a body that is already encoded: written as its bytes, where the library's own
 * ContentInfo (content as ANY) would parse the whole body back into a tree first. @internal
 */
class EncodedContentInfo {
  contentType = '';
  content: Uint8Array = new Uint8Array(0);
}
fields(EncodedContentInfo, [
  ['contentType', { type: AsnPropTypes.ObjectIdentifier }],
  ['content', { type: AsnPropTypes.Any, context: 0, converter: encodedAnyConverter }],
]);

/** DER ContentInfo `{ contentType, [0] EXPLICIT body }` for an encoded body. @internal */
export function contentInfoDer(contentType: string, body: Uint8Array): Uint8Array {
  const info = new EncodedContentInfo();
  info.contentType = contentType;
  info.content = body;
  return serializeAsn1(info, 'INVALID_CMS');
}

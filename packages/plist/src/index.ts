export {
  isMdmkitError,
  PlistError,
  PlistParseError,
  type PlistErrorCode,
  type PlistErrorLocation,
} from './errors';
export { defaultLimits, type ParseOptions, type PlistLimits } from './limits';
export { type PlistDict, PlistReal, PlistUid, type PlistValue, real, uid } from './value';
export { parse, isBinaryPlist } from './parse';
export { parseXml } from './xml-parse';
export { buildXml, buildXmlBytes, type BuildXmlOptions } from './xml-build';
export { parseBinary } from './binary-parse';
export { buildBinary } from './binary-build';
export { convert, detectFormat, type ConvertFormat, type ConvertOptions } from './convert';

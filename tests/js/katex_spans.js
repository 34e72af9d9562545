'use strict';
// How KaTeX groups the arguments of \frac, \sqrt, ^ and _: the reference for derivmagic's reader.
// stdin: JSON array of strings (display math without the $$ delimiters).
// stdout: JSON array, one entry per string: either {records: [...]} or {error: message}.
//   A record is {kind, at, args, ...}:
//     kind "frac"  (\frac, \dfrac, \tfrac, \cfrac): at = start of the command, args = [numerator, denominator]
//     kind "sqrt"  at = start of \sqrt, args = [body] (and index: [start, end] for \sqrt[n]{...})
//     kind "sup" / "sub": at = offset of the ^ or _, args = [the script]; base = {type, text, span}
//   Every span is [start, end) in UTF-16 code units of the input string, exactly as KaTeX read it
//   (a braced argument includes its braces). A span KaTeX cannot locate in the input (e.g. it came
//   out of a macro expansion) is null.
//
// KaTeX's parse tree (katex.__parse) carries `loc` (SourceLocation: lexer, start, end) on symbols and
// on braced groups, but not on the nodes built by commands (\frac, \sqrt, \mathbf, ...) nor on the
// ^/_ tokens. So the Parser's prototype is reached through a probe command's handler context and
// three methods are wrapped: parseFunction (remembers the command token of each command node),
// handleSupSubscript (remembers the ^/_ token and the last token of the script) and consume (the
// last token consumed). Nothing else in KaTeX changes; the tree is what katex.__parse returns.

const fs = require('fs');
const katex = require('katex');

const PROBE = '\\derivmagicSpanProbe';

function parserPrototype() {
  let proto = null;
  katex.__defineFunction({
    type: 'ordgroup',
    names: [PROBE],
    props: {numArgs: 0},
    handler: (context) => {
      proto = Object.getPrototypeOf(context.parser);
      return {type: 'ordgroup', mode: context.parser.mode, body: []};
    },
  });
  katex.__parse(PROBE, {throwOnError: true});
  if (!proto) {
    throw new Error('could not reach KaTeX\'s Parser through a command handler');
  }
  for (const name of ['parse', 'parseFunction', 'handleSupSubscript', 'consume', 'fetch']) {
    if (typeof proto[name] !== 'function') {
      throw new Error(`KaTeX's Parser has no method ${name}: katex_spans.js needs updating`);
    }
  }
  return proto;
}

let mainLexer = null; // the lexer of the string being parsed: locations from macro bodies are not ours

function instrument(proto) {
  const {parse, parseFunction, handleSupSubscript, consume} = proto;
  proto.parse = function (...args) {
    mainLexer = this.gullet.lexer;
    return parse.apply(this, args);
  };
  proto.consume = function (...args) {
    if (this.nextToken) {
      this.lastConsumed = this.nextToken;
    }
    return consume.apply(this, args);
  };
  proto.parseFunction = function (...args) {
    const token = this.fetch();
    const node = parseFunction.apply(this, args);
    if (node) {
      const cmd = {text: token.text, loc: token.loc, last: this.lastConsumed && this.lastConsumed.loc};
      Object.defineProperty(node, 'cmdToken', {value: cmd, enumerable: false});
      // \tfrac and \dfrac wrap their genfrac in a styling node
      if (node.type === 'styling' && node.body && node.body.length === 1 && node.body[0].type === 'genfrac'
          && !node.body[0].cmdToken) {
        Object.defineProperty(node.body[0], 'cmdToken', {value: cmd, enumerable: false});
      }
    }
    return node;
  };
  proto.handleSupSubscript = function (...args) {
    const token = this.fetch(); // the ^ or _
    const group = handleSupSubscript.apply(this, args);
    const script = {text: token.text, loc: token.loc, last: this.lastConsumed && this.lastConsumed.loc};
    Object.defineProperty(group, 'scriptToken', {value: script, enumerable: false});
    return group;
  };
}

function ours(loc) {
  return loc && loc.lexer === mainLexer ? loc : null;
}

function span(loc) {
  const l = ours(loc);
  return l ? [l.start, l.end] : null;
}

// The source span of any node: its own loc, or for a command node from its command token to the last
// token it consumed.
function nodeSpan(node) {
  if (!node) {
    return null;
  }
  if (ours(node.loc)) {
    return span(node.loc);
  }
  const cmd = node.cmdToken;
  if (cmd && ours(cmd.loc) && ours(cmd.last)) {
    return [cmd.loc.start, cmd.last.end];
  }
  return null;
}

function scriptSpan(group) {
  const s = group.scriptToken;
  if (ours(group.loc)) {
    return span(group.loc);
  }
  const cmd = group.cmdToken;
  if (cmd && ours(cmd.loc) && s && ours(s.last)) {
    return [cmd.loc.start, s.last.end];
  }
  return nodeSpan(group);
}

const FRACS = new Set(['\\frac', '\\dfrac', '\\tfrac', '\\cfrac']);

function baseInfo(base) {
  if (!base) {
    return null;
  }
  return {type: base.type, text: base.text || base.name || null, span: nodeSpan(base)};
}

function walk(node, out) {
  if (Array.isArray(node)) {
    for (const n of node) {
      walk(n, out);
    }
    return;
  }
  if (!node || typeof node !== 'object') {
    return;
  }
  if (node.type === 'genfrac' && node.cmdToken && FRACS.has(node.cmdToken.text)) {
    const loc = ours(node.cmdToken.loc);
    out.push({kind: 'frac', cmd: node.cmdToken.text, at: loc ? loc.start : null,
      args: [nodeSpan(node.numer), nodeSpan(node.denom)]});
  } else if (node.type === 'sqrt' && node.cmdToken) {
    const loc = ours(node.cmdToken.loc);
    const rec = {kind: 'sqrt', cmd: node.cmdToken.text, at: loc ? loc.start : null, args: [nodeSpan(node.body)]};
    if (node.index) {
      rec.index = nodeSpan(node.index);
    }
    out.push(rec);
  } else if (node.type === 'supsub') {
    for (const [kind, key] of [['sup', 'sup'], ['sub', 'sub']]) {
      const script = node[key];
      if (!script) {
        continue;
      }
      if (!script.scriptToken) {
        // primes (f') and Unicode scripts (x²) are not written with ^ or _: no record
        continue;
      }
      const loc = ours(script.scriptToken.loc);
      out.push({kind, at: loc ? loc.start : null, args: [scriptSpan(script)], base: baseInfo(node.base)});
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'loc' && value && typeof value === 'object') {
      walk(value, out);
    }
  }
}

function spans(s) {
  try {
    const tree = katex.__parse(s, {displayMode: true, throwOnError: true, strict: 'ignore'});
    const records = [];
    walk(tree, records);
    records.sort((a, b) => (a.at ?? -1) - (b.at ?? -1));
    return {records};
  } catch (err) {
    return {error: String((err && err.message) || err)};
  }
}

function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (!Array.isArray(input) || !input.every((s) => typeof s === 'string')) {
    throw new Error('stdin must be a JSON array of strings');
  }
  instrument(parserPrototype());
  process.stdout.write(JSON.stringify(input.map(spans)) + '\n');
}

try {
  main();
} catch (err) {
  process.stderr.write(`katex_spans: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
}

'use strict';
// Validate display-math LaTeX strings with KaTeX and MathJax 3.
// stdin: JSON array of strings (content without $$ delimiters).
// stdout: JSON array of {ok, katex, mathjax}; each engine field is null or an error message.

const fs = require('fs');
const katex = require('katex');
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

const EXCLUDED = new Set(['noerrors', 'noundefined']);

function makeMathJax() {
  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const tex = new TeX({
    packages: AllPackages.filter((p) => !EXCLUDED.has(p)),
    formatError: (jax, err) => {
      throw err;
    },
  });
  const svg = new SVG({fontCache: 'none'});
  const html = mathjax.document('', {InputJax: tex, OutputJax: svg});
  return (s) => {
    const item = new html.options.MathItem(s, tex, true);
    item.start.node = adaptor.body(html.document);
    item.setMetrics(16, 8, 80 * 16, 100000, 1);
    item.convert(html);
    item.root.walkTree((node) => {
      if (node.isKind('merror')) {
        const msg = node.attributes.get('data-mjx-error') || 'merror node in output';
        throw new Error(msg);
      }
    });
  };
}

function check(fn) {
  try {
    fn();
    return null;
  } catch (err) {
    return String((err && err.message) || err);
  }
}

function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (!Array.isArray(input) || !input.every((s) => typeof s === 'string')) {
    throw new Error('stdin must be a JSON array of strings');
  }
  const mathjaxRender = makeMathJax();
  const results = input.map((s) => {
    const katexErr = check(() =>
      katex.renderToString(s, {displayMode: true, throwOnError: true, strict: 'error'}));
    const mathjaxErr = check(() => mathjaxRender(s));
    return {ok: katexErr === null && mathjaxErr === null, katex: katexErr, mathjax: mathjaxErr};
  });
  process.stdout.write(JSON.stringify(results) + '\n');
}

try {
  main();
} catch (err) {
  process.stderr.write(`validate_tex: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
}

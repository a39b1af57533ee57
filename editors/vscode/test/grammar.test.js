// The TextMate grammar, tokenized by vscode-textmate with the oniguruma engine VS Code itself uses.
//
//   node test/grammar.test.js [EXPECTED.json]
//
// Over every example and stdlib rule file: no token is scoped invalid, every
// token scoped as a keyword is a word of the grammar's own "keywords" list
// (which tests/test_textmate.py holds to the Lark grammar's keywords).
// EXPECTED.json (written by tests/test_textmate.py from the real Lark parser)
// adds the check of tests/test_highlight.py: each word the parser reads as a
// keyword is highlighted as one, and no word it reads as a name is.
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const GRAMMAR = path.resolve(__dirname, "..", "syntaxes", "whuffie.tmLanguage.json");

function ruleFiles() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".whuf")) found.push(full);
    }
  };
  walk(path.join(ROOT, "examples"));
  walk(path.join(ROOT, "stdlib"));
  return found.sort();
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scope) =>
      scope === "source.whuffie" ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR) : null,
  });
  return registry.loadGrammar("source.whuffie");
}

function tokenize(grammar, text) {
  const tokens = [];
  let stack = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, number) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens) {
      tokens.push({ line: number, start: t.startIndex, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    stack = result.ruleStack;
  });
  return tokens;
}

const isKeyword = (t) => t.scopes.some((s) => s.startsWith("keyword.") && !s.startsWith("keyword.operator.whuffie"));
// what the parser calls a keyword may also be a word operator (and, of) or a literal word (true, false)
const readsAsKeyword = (t) => isKeyword(t) || t.scopes.some((s) => s.startsWith("constant.language"));

async function main() {
  const expected = process.argv[2] ? JSON.parse(fs.readFileSync(process.argv[2], "utf8")) : null;
  const grammar = await loadGrammar();
  const keywords = new Set(JSON.parse(fs.readFileSync(GRAMMAR, "utf8")).keywords);
  const files = ruleFiles();
  assert.ok(files.length >= 3, "no rule files found under examples/ and stdlib/");
  const seenKeywords = new Set();
  const problems = [];
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    const text = fs.readFileSync(file, "utf8");
    const tokens = tokenize(grammar, text);
    const at = new Map(tokens.map((t) => [`${t.line}:${t.start}`, t]));
    for (const t of tokens) {
      if (t.scopes.some((s) => s.startsWith("invalid"))) problems.push(`${rel}:${t.line + 1}: invalid token ${t.text}`);
      if (isKeyword(t)) {
        if (!keywords.has(t.text)) problems.push(`${rel}:${t.line + 1}: ${t.text} is highlighted as a keyword but is not one`);
        seenKeywords.add(t.text);
      }
    }
    if (!expected) continue;
    const want = expected.files[rel];
    assert.ok(want, `no expectations for ${rel}`);
    for (const [line, col, word] of want.keywords) {
      const t = at.get(`${line}:${col}`);
      if (!t || t.text !== word || !readsAsKeyword(t)) {
        problems.push(`${rel}:${line + 1}:${col + 1}: the parser reads ${word} as a keyword; highlighted as ${t ? t.scopes.join(" ") : "nothing"}`);
      }
    }
    for (const [line, col, word] of want.names) {
      const t = at.get(`${line}:${col}`);
      if (!t) problems.push(`${rel}:${line + 1}:${col + 1}: ${word} does not start a token`);
      else if (t.scopes.some((s) => s.startsWith("storage.type")) && expected.typeNames.includes(word)) continue;
      else if (readsAsKeyword(t)) {
        problems.push(`${rel}:${line + 1}:${col + 1}: the parser reads ${word} as a name; highlighted as ${t.scopes.join(" ")}`);
      }
    }
  }
  if (problems.length) {
    console.error(problems.slice(0, 40).join("\n"));
    console.error(`${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log(`ok: ${files.length} rule files tokenized, ${seenKeywords.size} keywords highlighted${expected ? ", parser keywords and names agree" : ""}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

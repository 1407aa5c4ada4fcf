// Records the ids that gpt-3-encoder's JavaScript encoder (1.1.4) gives for tricky texts, as the reference
// for IoiBench's byte-level BPE tokenizer. Fetches the encoder with npm (npm pack), then:
//   node tools/make_bpe_reference.js
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-3-encoder-'));
execSync('npm pack --silent gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz', { cwd: work });
const { encode } = require(path.join(work, 'package', 'Encoder.js'));

const texts = [
  'Hello world',
  'Then, Mary and John went to the store. John gave a drink to',
  "I'm sure they've done it; we'll see what she'd said, you're right, it's fine, don't worry",
  "CAPS'S and 'quoted' words, O'Neil's",
  'In 2024: 3.14159 and 1,000,000 items #42 at 12:30pm (x2)',
  'naïve café — résumé, 日本語のテキスト, emoji 🎉🙂, Ελληνικά, Ünïcödé',
  'spaces:    four, tabs\t\there,  two',
  'line one\nline two\n\n  indented\r\nwindows line',
  '   leading and trailing   ',
  '<|endoftext|> is plain text to this encoder',
  'e-mail: someone@example.com; URL https://example.org/a_b?c=d&e=f',
  'mixedCase camelCase snake_case SCREAMING_CASE',
];

const cases = texts.map(text => ({ text, ids: encode(text) }));
const out = path.join(root, 'tests', 'IoiBench.Tests', 'Fixtures', 'gpt2-bpe-reference.json');
fs.writeFileSync(out, JSON.stringify({ encoder: 'gpt-3-encoder@1.1.4', cases }, null, 1) + '\n');
fs.rmSync(work, { recursive: true });
console.log(`wrote ${cases.length} cases to ${out}`);

// Compiles the Solidity sources in this folder with solc-js (standard JSON) and writes one artifact per contract
// to artifacts/<Contract>.json = { contractName, compiler, settings, abi, bytecode }.
//
//   node build.mjs           rebuild the committed artifacts
//   node build.mjs --check   compile and fail (exit 1) when a committed artifact is missing or differs
//
// solc and @openzeppelin/contracts come from ./node_modules (`npm ci`). The settings are pinned and the metadata
// hash is left out of the bytecode, so the same sources give byte-identical artifacts on every machine.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const solc = require('solc');

// Source units, relative to this folder (the keys end up in nothing that reaches the bytecode).
const SOURCES = ['OpenMavnVoucherLedger.sol', 'baseline/BaselineVouchers1155.sol'];

const SETTINGS = {
  optimizer: { enabled: true, runs: 1000 },
  evmVersion: 'cancun',
  viaIR: true,
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

const check = process.argv.includes('--check');

function findImports(importPath) {
  const candidates = importPath.startsWith('@')
    ? [path.join(here, 'node_modules', importPath)]
    : [path.join(here, importPath)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `import not found: ${importPath} (run \`npm ci\` in contracts/)` };
}

const input = {
  language: 'Solidity',
  sources: Object.fromEntries(
    SOURCES.map((file) => [file, { content: fs.readFileSync(path.join(here, file), 'utf8') }]),
  ),
  settings: SETTINGS,
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const problems = output.errors ?? [];
for (const problem of problems.filter((p) => p.severity !== 'error')) {
  process.stderr.write(problem.formattedMessage);
}
const errors = problems.filter((p) => p.severity === 'error');
if (errors.length > 0) {
  for (const error of errors) {
    process.stderr.write(error.formattedMessage);
  }
  process.stderr.write(`solc ${solc.version()}: ${errors.length} error(s); no artifact written.\n`);
  process.exit(1);
}

const { outputSelection: _unused, ...recordedSettings } = SETTINGS;
const artifacts = [];
for (const file of SOURCES) {
  for (const [contractName, contract] of Object.entries(output.contracts[file] ?? {})) {
    const artifact = {
      contractName,
      compiler: `solc ${solc.version()}`,
      settings: recordedSettings,
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
    };
    artifacts.push({
      relative: path.join('artifacts', `${contractName}.json`),
      text: `${JSON.stringify(artifact, null, 2)}\n`,
    });
  }
}

if (check) {
  const stale = [];
  for (const { relative, text } of artifacts) {
    const file = path.join(here, relative);
    if (!fs.existsSync(file)) {
      stale.push(`${relative} is missing`);
    } else if (fs.readFileSync(file, 'utf8') !== text) {
      stale.push(`${relative} does not match its source`);
    }
  }
  if (stale.length > 0) {
    for (const line of stale) {
      process.stderr.write(`contracts/${line}\n`);
    }
    process.stderr.write('Rebuild with `node build.mjs` in contracts/ and commit the artifacts.\n');
    process.exit(1);
  }
  process.stdout.write(`${artifacts.length} artifact(s) up to date (solc ${solc.version()}).\n`);
} else {
  fs.mkdirSync(path.join(here, 'artifacts'), { recursive: true });
  for (const { relative, text } of artifacts) {
    fs.writeFileSync(path.join(here, relative), text);
    process.stdout.write(`wrote contracts/${relative}\n`);
  }
}

#!/usr/bin/env bash
# The ledger benchmark in one line: builds the bench (Release) and runs it. It starts its own anvil on 127.0.0.1 (from
# contracts/node_modules; `npm ci` there runs first when needed), prints a markdown table and writes
# bench/results/ledger-latest.md. Options go to the bench (see bench/README.md, "Ledger (gas)").
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/OpenMavn.Bench.Ledger/OpenMavn.Bench.Ledger.csproj -c Release --nologo -v q
exec dotnet bench/OpenMavn.Bench.Ledger/bin/Release/net10.0/OpenMavn.Bench.Ledger.dll "$@"

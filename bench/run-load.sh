#!/usr/bin/env bash
# The load benchmark in one line: builds the floor app, the OpenMavn host and the driver (Release), then runs the
# driver, which starts both apps on 127.0.0.1 and writes bench/results/latest.md. Options go to the driver
# (--clients 32 --warmup 5 --duration 20 --cold-runs 3 …; see bench/README.md, "Load").
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/OpenMavn.Bench.Load/OpenMavn.Bench.Load.csproj -c Release --nologo -v q
exec dotnet bench/OpenMavn.Bench.Load/bin/Release/net10.0/OpenMavn.Bench.Load.dll "$@"

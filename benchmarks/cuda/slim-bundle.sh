#!/usr/bin/env bash
# Drops the notebook engine (Roslyn, the F# compiler, .NET Interactive: about 45 MB of the 67 MB app) from
# .device-bundle/app.tar.xz made by ../shared/gpu/pack, so that the bundle and the working tree fit a device call's
# 64 MiB. Every command but `notebook run` works without them (.NET loads an assembly at its first use).
set -euo pipefail
B=.device-bundle; tmp=$(mktemp -d)
tar -C "$tmp" -xJf $B/app.tar.xz
rm -f "$tmp"/app/FSharp.Compiler.Service.dll "$tmp"/app/Microsoft.CodeAnalysis*.dll \
      "$tmp"/app/Microsoft.DotNet.Interactive*.dll "$tmp"/app/Humanizer.dll
tar -C "$tmp" -cJf $B/app.tar.xz app
rm -rf "$tmp"
du -sh $B

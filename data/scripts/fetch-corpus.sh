#!/usr/bin/env bash
# Downloads Debian 12's LibreOffice help packages (the same ~2,500 help pages translated into each language) and
# unpacks them without installing anything. Then, unless --download-only, builds the plain-text parallel corpus:
#   data/scripts/fetch-corpus.sh [--pretraining] [--download-only] [--work DIR] [--out DIR] [-- extra `moelpr corpus` options]
# Default: full corpus (every page) into data/corpus-full/. The shipped sample in data/corpus/ was made with
#   data/scripts/fetch-corpus.sh --out data -- --max-train 400 --max-eval 50 --examples 200
# --pretraining also fetches the translated Debian manuals (GIMP help, Debian Administrator's Handbook, Debian
# Reference, New Maintainers' Guide) and writes the old-language pretraining corpus the shipped base model was trained
# on, $out/pretrain/{en,es,zh}.{train,valid}.jsonl: it downloads the exact package versions listed in
# data/scripts/pretraining-packages.txt, checks each .deb's SHA-256 and the written files' SHA-1
# (data/scripts/pretraining-corpus.sha1), and fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

work=/tmp/moelpr-lohelp
out=data/corpus-full
download_only=0
pretraining=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pretraining) pretraining=1; shift ;;
    --download-only) download_only=1; shift ;;
    --work) work="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "fetch-corpus: unknown option $1" >&2; exit 2 ;;
  esac
done

packages=(libreoffice-help-en-us libreoffice-help-es libreoffice-help-zh-cn libreoffice-help-el
          libreoffice-help-hu libreoffice-help-tr libreoffice-help-ja)

pinned=data/scripts/pretraining-packages.txt
corpus_options=()
if [ "$pretraining" = 1 ]; then
  mapfile -t packages < <(grep -v '^#' "$pinned" | awk '{print $1 "=" $2}')
  corpus_options=(--pretraining-docs "$work/root")
fi

mkdir -p "$work/debs" "$work/root"
if [ ! -f "$work/.lists-updated" ]; then
  apt-get update -qq
  touch "$work/.lists-updated"
fi
for pkg in "${packages[@]}"; do
  if ! ls "$work/debs/${pkg%%=*}_"*.deb >/dev/null 2>&1; then
    (cd "$work/debs" && apt-get download -qq "$pkg")
  fi
done
if [ "$pretraining" = 1 ]; then
  grep -v '^#' "$pinned" | while read -r pkg version sha256; do
    deb=$(ls "$work/debs/${pkg}_"*.deb)
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || { echo "fetch-corpus: $deb is not version $version" >&2; exit 1; }
    echo "$sha256  $deb" | sha256sum --quiet -c - || { echo "fetch-corpus: $deb: SHA-256 differs from $pinned" >&2; exit 1; }
  done
fi
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done
echo "fetch-corpus: help pages unpacked under $work/root/usr/share/libreoffice/help"
for deb in "$work"/debs/*.deb; do
  echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
done > "$work/packages.txt"
[ "$download_only" = 1 ] && exit 0

dotnet run --project src/MoeLpr.Cli -c Release -- corpus \
  --help-root "$work/root/usr/share/libreoffice/help" \
  --copyright "$work/root/usr/share/doc/libreoffice-help-en-us/copyright" \
  --packages "$work/packages.txt" \
  --out "$out" "${corpus_options[@]}" "$@"
if [ "$pretraining" = 1 ]; then
  (cd "$out" && sha1sum -c "$repo/data/scripts/pretraining-corpus.sha1") ||
    { echo "fetch-corpus: the pretraining corpus differs from data/scripts/pretraining-corpus.sha1" >&2; exit 1; }
fi

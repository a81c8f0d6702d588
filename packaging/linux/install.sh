#!/bin/sh
# Install or update ketalog from this unpacked folder (run as root):
#   sudo ./install.sh            -> /opt/ketalog, menu entry, /usr/local/bin/ketalog
#   sudo ./install.sh /srv/ketalog
# KETALOG_BIN_DIR and KETALOG_APPS_DIR move the command link and the menu entry.
# An update replaces the program folder only. Databases and backups live in each user's
# data folder (~/.local/share/ketalog) and are never touched here; the new version
# copies a database aside before it migrates it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-/opt/ketalog}
bin_dir=${KETALOG_BIN_DIR:-/usr/local/bin}
apps_dir=${KETALOG_APPS_DIR:-/usr/share/applications}
[ -x "$here/ketalog" ] || { echo "run this from the unpacked ketalog folder" >&2; exit 1; }
[ "$here" != "$target" ] || { echo "already installed at $target" >&2; exit 1; }

rm -rf "$target.new"
mkdir -p "$(dirname "$target")"
cp -a "$here" "$target.new"
if [ -e "$target" ]; then
    rm -rf "$target.old"
    mv "$target" "$target.old"
fi
mv "$target.new" "$target"
rm -rf "$target.old"

mkdir -p "$bin_dir" "$apps_dir"
ln -sf "$target/ketalog" "$bin_dir/ketalog"
sed -e "s|@TARGET@|$target|g" "$target/ketalog.desktop" \
    > "$apps_dir/ketalog.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q || true
echo "ketalog $("$target/ketalog" --version | cut -d' ' -f2) installed in $target"
